"""End to end over real HTTP: flow files → Dagster asset → sandbox → files at the destination."""

from datetime import datetime
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from sandbox_client import count

from appflow_dagster.dagster_defs.factory import definitions_from_folders


def _sf_count(sandbox, soql: str, endpoint: str = "query") -> int:
    return count(sandbox.url, soql, endpoint)


def _materialization(result: dg.ExecuteInProcessResult) -> dict:
    mats = result.get_asset_materialization_events()
    assert len(mats) == 1
    return {k: v.value for k, v in mats[0].materialization.metadata.items()}


def test_on_demand_flow_lands_parquet_locally(demo_env, sandbox) -> None:
    defs = definitions_from_folders(demo_env.flows, demo_env.connections)
    result = defs.resolve_job_def("appflow_demo_account_on_demand").execute_in_process(
        instance=dg.DagsterInstance.ephemeral()
    )
    assert result.success
    meta = _materialization(result)
    run_dir = demo_env.data / "appflow-demo" / "salesforce" / "demo-account-on-demand" / result.run_id
    files = sorted(run_dir.glob("*"))
    assert files, f"nothing under {run_dir}"
    df = pl.concat([pl.read_parquet(f) for f in files])
    expected = _sf_count(sandbox, "SELECT COUNT() FROM Account")
    assert df.height == expected == meta["dagster/row_count"]
    assert df["Id"].n_unique() == expected
    assert meta["appflow/execution_id"] == result.run_id
    assert meta["appflow/records_read"] == expected
    assert run_dir.as_posix() in meta["dagster/uri"]
    columns = [c.name for c in meta["dagster/column_schema"].columns]
    assert {"Id", "Name", "LastModifiedDate"} <= set(columns)
    assert not list(demo_env.data.rglob("*staging*")), "staging leftovers visible"


def test_incremental_partition_pulls_exactly_its_window(demo_env, sandbox) -> None:
    defs = definitions_from_folders(demo_env.flows, demo_env.connections)
    job = defs.resolve_job_def("appflow_demo_opportunity_daily")
    keys = job.partitions_def.get_partition_keys()
    key = keys[-2]  # a whole day inside the sandbox's 90 days of history
    result = job.execute_in_process(partition_key=key, instance=dg.DagsterInstance.ephemeral())
    assert result.success
    meta = _materialization(result)
    start = datetime.fromisoformat(meta["appflow/window_start"])
    end = datetime.fromisoformat(meta["appflow/window_end"])
    assert start.strftime("%Y-%m-%d") == key and (end - start).days == 1
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    expected = _sf_count(
        sandbox,
        f"SELECT COUNT() FROM Opportunity WHERE LastModifiedDate >= {start.strftime(fmt)} "
        f"AND LastModifiedDate < {end.strftime(fmt)}",
    )
    assert expected > 0
    assert meta["dagster/partition_row_count"] == meta["dagster/row_count"] == expected
    run_dir = Path(meta["dagster/uri"].removeprefix("file://"))
    rows = pl.concat([pl.read_ndjson(f) for f in sorted(run_dir.glob("*")) if f.is_file()])
    assert rows.height == expected
    # Only the projected and mapped fields land (Filter PROJECTION + Map tasks of the flow file).
    assert set(rows.columns) == {
        "Id",
        "Name",
        "AccountId",
        "StageName",
        "Amount",
        "CloseDate",
        "LastModifiedDate",
    }


def test_rerunning_a_partition_replaces_its_output(demo_env) -> None:
    defs = definitions_from_folders(demo_env.flows, demo_env.connections)
    job = defs.resolve_job_def("appflow_demo_opportunity_daily")
    key = job.partitions_def.get_partition_keys()[-3]
    instance = dg.DagsterInstance.ephemeral()
    first = job.execute_in_process(partition_key=key, instance=instance)
    second = job.execute_in_process(partition_key=key, instance=instance)
    assert first.success and second.success
    flow_dir = demo_env.data / "appflow-demo" / "salesforce" / "demo-opportunity-daily"
    visible = {p.name for p in flow_dir.iterdir() if not p.name.startswith(("_", "."))}
    assert visible == {second.run_id}
    assert _materialization(first)["dagster/row_count"] == _materialization(second)["dagster/row_count"]


def test_failed_run_leaves_nothing_visible(demo_env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APPFLOW_DEMO_SALESFORCE_REFRESH_TOKEN", "wrong-token")
    defs = definitions_from_folders(demo_env.flows, demo_env.connections)
    result = defs.resolve_job_def("appflow_demo_account_on_demand").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )
    assert not result.success
    assert not [p for p in demo_env.data.rglob("*") if p.is_file()]
    assert "wrong-token" not in str(result.all_events)


def test_s3_destination_against_moto(demo_env, moto_server, monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    moto_endpoint = moto_server
    for var, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
        monkeypatch.setenv(var, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")

    monkeypatch.setenv("APPFLOW_S3_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("APPFLOW_S3_BUCKETS", "appflow-demo-s3")
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket="appflow-demo-s3")
    defs = definitions_from_folders(demo_env.flows, demo_env.connections)
    result = defs.resolve_job_def("appflow_demo_contact_weekly").execute_in_process(
        instance=dg.DagsterInstance.ephemeral()
    )
    assert result.success
    meta = _materialization(result)
    listing = s3.list_objects_v2(Bucket="appflow-demo-s3", Prefix=f"crm/demo-contact-weekly/{result.run_id}/")
    keys = [o["Key"] for o in listing.get("Contents", [])]
    assert keys and all(k.endswith(".csv") for k in keys)
    body = s3.get_object(Bucket="appflow-demo-s3", Key=keys[0])["Body"].read()
    df = pl.read_csv(body)
    assert df.height == meta["dagster/row_count"] > 0
    assert "Description" not in df.columns  # EXCLUDE_SOURCE_FIELDS_LIST
    assert meta["dagster/uri"].startswith("s3://appflow-demo-s3/crm/demo-contact-weekly/")
    assert not list(demo_env.data.rglob("*.csv")), "an S3-routed bucket must not land locally"


def test_include_deleted_records_reads_through_query_all(demo_env, sandbox) -> None:
    """Salesforce ``includeDeletedRecords`` (botocore ``SalesforceSourceProperties``) reads through queryAll."""
    import json

    path = demo_env.flows / "account-on-demand.json"
    doc = json.loads(path.read_text())
    doc["sourceFlowConfig"]["sourceConnectorProperties"]["Salesforce"]["includeDeletedRecords"] = True
    path.write_text(json.dumps(doc))
    defs = definitions_from_folders(demo_env.flows, demo_env.connections)
    result = defs.resolve_job_def("appflow_demo_account_on_demand").execute_in_process(
        instance=dg.DagsterInstance.ephemeral()
    )
    live = _sf_count(sandbox, "SELECT COUNT() FROM Account")
    everything = _sf_count(sandbox, "SELECT COUNT() FROM Account", endpoint="queryAll")
    assert everything > live
    assert _materialization(result)["dagster/row_count"] == everything
