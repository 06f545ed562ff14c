"""Validate tasks, id uniqueness and schema drift as asset checks, against the sandbox."""

import dagster as dg
import yaml

from appflow_dagster.dagster_defs.factory import definitions_from_folders


def _checks(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def _edit_opportunity_flow(project, edit) -> None:
    path = project.flows / "opportunity-daily.yaml"
    doc = yaml.safe_load(path.read_text())
    edit(doc)
    path.write_text(yaml.safe_dump(doc))


def test_partition_run_reports_every_check(demo_env) -> None:
    defs = definitions_from_folders(demo_env.flows, demo_env.connections)
    job = defs.resolve_job_def("appflow_demo_opportunity_daily")
    key = job.partitions_def.get_partition_keys()[-2]
    instance = dg.DagsterInstance.ephemeral()
    first = job.execute_in_process(partition_key=key, instance=instance)
    checks = _checks(first)
    assert set(checks) == {
        "validate_8_Id_validate_non_null",
        "validate_9_Amount_validate_non_negative",
        "unique_ids",
        "schema_drift",
    }
    assert all(c.passed for c in checks.values())
    assert all(c.target_materialization_data is not None for c in checks.values())
    written = first.get_asset_materialization_events()[0].materialization.metadata["dagster/row_count"].value
    non_null = checks["validate_8_Id_validate_non_null"].metadata
    assert non_null["appflow/records_checked"].value == written
    assert non_null["appflow/records_failed"].value == 0
    assert checks["unique_ids"].metadata["appflow/id_fields"].value == "Id"
    assert checks["schema_drift"].metadata["appflow/previous_run"].value == "none"

    second = job.execute_in_process(partition_key=key, instance=instance)
    assert _checks(second)["schema_drift"].metadata["appflow/previous_run"].value == "compared"
    assert _checks(second)["schema_drift"].passed


def test_schema_drift_is_reported_when_a_mapping_is_removed(demo_env) -> None:
    instance = dg.DagsterInstance.ephemeral()
    defs = definitions_from_folders(demo_env.flows, demo_env.connections)
    key = defs.resolve_job_def("appflow_demo_opportunity_daily").partitions_def.get_partition_keys()[-2]
    defs.resolve_job_def("appflow_demo_opportunity_daily").execute_in_process(
        partition_key=key, instance=instance
    )

    def drop_amount(doc):
        doc["tasks"] = [t for t in doc["tasks"] if t.get("destinationField") != "Amount"]
        doc["tasks"][0]["sourceFields"].remove("Amount")
        doc["tasks"] = [t for t in doc["tasks"] if t["sourceFields"] != ["Amount"]]

    _edit_opportunity_flow(demo_env, drop_amount)
    defs = definitions_from_folders(demo_env.flows, demo_env.connections)
    result = defs.resolve_job_def("appflow_demo_opportunity_daily").execute_in_process(
        partition_key=key, instance=instance
    )
    drift = _checks(result)["schema_drift"]
    assert not drift.passed
    assert drift.metadata["appflow/columns_removed"].value == "Amount"


def test_terminating_validation_fails_the_run_with_nothing_committed(demo_env) -> None:
    # NextStep is nullable and null on some sandbox Opportunities: a non-null validation that
    # terminates the flow must stop the run before anything is committed.
    def strict(doc):
        doc["tasks"][0]["sourceFields"].append("NextStep")
        doc["tasks"].append(
            {
                "taskType": "Validate",
                "sourceFields": ["NextStep"],
                "connectorOperator": {"Salesforce": "VALIDATE_NON_NULL"},
                "taskProperties": {"VALIDATION_ACTION": "TerminateFlow"},
            }
        )

    _edit_opportunity_flow(demo_env, strict)
    defs = definitions_from_folders(demo_env.flows, demo_env.connections)
    job = defs.resolve_job_def("appflow_demo_opportunity_daily")
    key = job.partitions_def.get_partition_keys()[-2]
    result = job.execute_in_process(
        partition_key=key, instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )
    assert not result.success
    failed = _checks(result)["validate_10_NextStep_validate_non_null"]
    assert not failed.passed
    assert failed.metadata["appflow/records_failed"].value > 0
    assert not [p for p in demo_env.data.rglob("*") if p.is_file() and "_appflow" not in p.parts]


def test_a_source_that_yields_no_batch_still_reports_every_check(demo_project, tmp_path) -> None:
    """Declared checks must all get a result, or Dagster fails the run: an empty source counts 0."""
    import pyarrow as pa
    from fakes import InMemorySource

    from appflow_dagster.connectors.base import FieldInfo, ObjectInfo
    from appflow_dagster.dagster_defs.factory import build_definitions
    from appflow_dagster.dagster_defs.resources import AppFlowResource
    from appflow_dagster.spec.parse import load_flows

    fields = ("Id", "Name", "AccountId", "StageName", "Amount", "CloseDate", "LastModifiedDate")
    info = ObjectInfo("Opportunity", None, tuple(FieldInfo(f, "string", pa.string()) for f in fields))

    class EmptyResource(AppFlowResource):
        def get_connector(self, connector_type, profile_name):
            return InMemorySource(info, n=0)

    flows = load_flows([demo_project.flows / "opportunity-daily.yaml"])
    defs = build_definitions(flows, EmptyResource(local_root=str(tmp_path)))
    job = defs.resolve_job_def("appflow_demo_opportunity_daily")
    result = job.execute_in_process(
        partition_key=job.partitions_def.get_partition_keys()[-1], instance=dg.DagsterInstance.ephemeral()
    )
    checks = _checks(result)
    assert result.success and len(checks) == 4
    assert checks["validate_9_Amount_validate_non_negative"].metadata["appflow/records_checked"].value == 0
