"""The code location: what a user sees in the UI for the demo flows. Keys are public API."""

from typing import Any

import dagster as dg

from appflow_dagster.dagster_defs.factory import definitions_from_folders
from appflow_dagster.dagster_defs.translator import AppFlowTranslator
from appflow_dagster.spec.model import FlowSpec


def describe(defs: dg.Definitions) -> dict[str, Any]:
    """Everything about the assets, jobs and schedules that a rename or a regrouping would change."""
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        pdef = node.partitions_def
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "kinds": sorted(node.kinds),
            "owners": list(node.owners),
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
            "materializable": node.is_materializable,
            "partitions": None
            if pdef is None
            else {"start": pdef.start.isoformat(), "cron": pdef.cron_schedule, "fmt": pdef.fmt},
            "checks": sorted(c.name for c in node.check_keys),
        }
    return {
        "assets": assets,
        "jobs": sorted(j.name for j in defs.resolve_all_job_defs() if not j.name.startswith("__")),
        "schedules": sorted(
            (s.name, s.cron_schedule if isinstance(s.cron_schedule, str) else list(s.cron_schedule))
            for s in (defs.resolve_schedule_def(u.name) for u in defs.schedules or [])
        ),
    }


def test_demo_definitions_match_snapshot(demo_project, snapshot) -> None:
    defs = definitions_from_folders(demo_project.flows, demo_project.connections)
    dg.Definitions.validate_loadable(defs)
    assert describe(defs) == snapshot


def test_code_location_module_loads(demo_project) -> None:
    import importlib

    import appflow_dagster.definitions as module

    defs = importlib.reload(module).defs
    keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"salesforce/Account", "appflow/demo_account_on_demand"} <= keys


def test_flow_asset_is_downstream_of_its_source_with_description_and_owner(demo_project) -> None:
    defs = definitions_from_folders(demo_project.flows, demo_project.connections)
    node = defs.resolve_asset_graph().get(dg.AssetKey(["appflow", "demo_account_on_demand"]))
    assert node.parent_keys == {dg.AssetKey(["salesforce", "Account"])}
    assert "Account" in (node.description or "")
    assert node.owners == ["team:data-platform"]
    assert node.is_materializable
    source = defs.resolve_asset_graph().get(dg.AssetKey(["salesforce", "Account"]))
    assert not source.is_materializable  # external: lineage only


def test_translator_subclass_changes_keys_and_groups(demo_project) -> None:
    class MyTranslator(AppFlowTranslator):
        def get_asset_spec(self, flow: FlowSpec) -> dg.AssetSpec:
            spec = super().get_asset_spec(flow)
            return spec.replace_attributes(
                key=dg.AssetKey(["raw", "crm", spec.key.path[-1]]), group_name="crm"
            )

    defs = definitions_from_folders(demo_project.flows, demo_project.connections, translator=MyTranslator())
    node = defs.resolve_asset_graph().get(dg.AssetKey(["raw", "crm", "demo_account_on_demand"]))
    assert node.group_name == "crm"
