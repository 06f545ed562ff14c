"""`appflow-dagster` as a user runs it: exit codes and output."""

import json
import os
import subprocess
import sys
from pathlib import Path

from appflow_dagster.cli import main

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "tests" / "fixtures" / "spec"


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "appflow_dagster.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def test_validate_accepts_the_demo_flows(demo_project, capsys) -> None:
    assert main(["validate", str(demo_project.flows), str(demo_project.connections)]) == 0


def test_validate_refuses_a_broken_file_with_its_field_path(tmp_path, capsys) -> None:
    broken = tmp_path / "broken.json"
    doc = json.loads((ROOT / "flows" / "account-on-demand.json").read_text())
    doc["triggerConfig"]["triggerType"] = "Sometimes"
    del doc["tasks"][0]["taskType"]
    broken.write_text(json.dumps(doc))
    assert main(["validate", str(broken)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert f"{broken}: triggerConfig.triggerType: must be one of: " in lines[0] or any(
        line.startswith(f"{broken}: triggerConfig.triggerType: must be one of") for line in lines
    )
    assert any(line == f"{broken}: tasks[0].taskType: is required" for line in lines), lines


def test_validate_missing_path_exits_2(tmp_path) -> None:
    assert main(["validate", str(tmp_path / "nope.json")]) == 2


def test_list_json_describes_each_flow(demo_project, capsys) -> None:
    assert main(["list", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(rows) == {"demo-account-on-demand", "demo-opportunity-daily", "demo-contact-weekly"}
    acct = rows["demo-account-on-demand"]
    assert acct["asset_key"] == "appflow/demo_account_on_demand"
    assert acct["source"] == {"connector": "Salesforce", "object": "Account", "connection": "demo-salesforce"}
    assert acct["trigger"] == "OnDemand" and acct["partitions"] is None and acct["schedule"] is None
    opp = rows["demo-opportunity-daily"]
    assert opp["partitions"]["cron"] == "0 0 * * *"
    assert opp["partitions"]["start"].startswith("2025-12-16")  # 30 days before the pinned first load
    assert opp["schedule"] == "0 0 * * *"
    contact = rows["demo-contact-weekly"]
    assert contact["partitions"] is None and contact["schedule"] == "0 6 * * 1"


def test_run_materializes_and_prints_a_summary(demo_env) -> None:
    proc = _cli("run", "demo-account-on-demand", "--json")
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert summary["records_written"] == summary["records_read"] > 0
    assert summary["files"] >= 1 and summary["bytes"] > 0
    assert "appflow-sandbox-secret" not in proc.stdout + proc.stderr


def test_run_unknown_flow_and_failure_exit_codes(demo_env) -> None:
    assert _cli("run", "no-such-flow").returncode == 2
    assert _cli("run", "demo-opportunity-daily").returncode == 2  # partitioned: needs --partition
    failed = _cli("run", "demo-account-on-demand", env={"APPFLOW_DEMO_SALESFORCE_REFRESH_TOKEN": "nope"})
    assert failed.returncode == 1
    assert "failed" in failed.stderr


def test_dagster_cli_materializes_a_flow(demo_env) -> None:
    """`dagster asset materialize -m MODULE` works on the code location as users run it."""
    dagster = Path(sys.executable).with_name("dagster")
    proc = subprocess.run(
        [str(dagster), "asset", "materialize", "-m", "appflow_dagster.definitions",
         "--select", "appflow/demo_account_on_demand"],
        capture_output=True, text=True, timeout=300, env={**os.environ},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    landed = list(
        (demo_env.data / "appflow-demo" / "salesforce" / "demo-account-on-demand").glob("*/*.parquet")
    )
    assert len(landed) == 1
    assert "appflow-sandbox-secret" not in proc.stdout + proc.stderr


def test_validate_reports_tasks_the_engine_cannot_run(tmp_path, capsys) -> None:
    """A document AppFlow's model accepts but whose tasks map nothing: refused with its path."""
    flow = tmp_path / "projection-only.json"
    doc = json.loads((ROOT / "flows" / "account-on-demand.json").read_text())
    doc["tasks"] = [
        {"taskType": "Filter", "sourceFields": ["Id"], "connectorOperator": {"Salesforce": "PROJECTION"}}
    ]
    flow.write_text(json.dumps(doc))
    assert main(["validate", str(flow)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"{flow}: tasks: ") and "nothing would reach the destination" in err
