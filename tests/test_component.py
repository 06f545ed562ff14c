"""The Dagster component: a defs.yaml pointing at a folder of flow files in a user's project."""

import shutil
from pathlib import Path

from dagster.components.testing import create_defs_folder_sandbox

from appflow_dagster.dagster_defs.component import AppFlowComponent

ROOT = Path(__file__).resolve().parents[1]


def test_component_loads_flows_from_a_defs_yaml(demo_project) -> None:
    with create_defs_folder_sandbox() as sandbox:
        folder = sandbox.defs_folder_path / "appflow"
        folder.mkdir(parents=True)
        shutil.copytree(ROOT / "flows", folder / "flows")
        shutil.copytree(ROOT / "connections", folder / "connections")
        (folder / "defs.yaml").write_text(
            "type: appflow_dagster.dagster_defs.component.AppFlowComponent\n"
            "attributes:\n  flows_path: flows\n  connections_path: connections\n"
        )
        with sandbox.load_component_and_build_defs(defs_path=folder) as (component, defs):
            assert isinstance(component, AppFlowComponent)
            keys = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {"salesforce/Account", "appflow/demo_account_on_demand", "appflow/demo_opportunity_daily"} <= keys
