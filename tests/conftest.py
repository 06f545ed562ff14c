"""Shared fixtures: a demo project in a temporary folder wired to the sandbox."""

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: The fixed first-load time used wherever partitions must be reproducible (snapshots).
FIRST_SEEN = "2026-01-15T00:00:00+00:00"


@dataclass
class DemoProject:
    root: Path
    flows: Path
    connections: Path
    data: Path
    state: Path


@pytest.fixture
def demo_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DemoProject:
    """The repo's demo flows and connections in a temp folder, files landing under ``data``,
    flow first-load times pinned, no S3 routing unless a test adds it."""
    project = DemoProject(
        root=tmp_path,
        flows=tmp_path / "flows",
        connections=tmp_path / "connections",
        data=tmp_path / "data",
        state=tmp_path / "state",
    )
    shutil.copytree(ROOT / "flows", project.flows)
    shutil.copytree(ROOT / "connections", project.connections)
    project.data.mkdir()
    project.state.mkdir()
    names = ["demo-account-on-demand", "demo-opportunity-daily", "demo-contact-weekly"]
    (project.state / "first_seen.json").write_text(json.dumps({n: FIRST_SEEN for n in names}))
    for var in ("APPFLOW_S3_BUCKETS", "APPFLOW_S3_ENDPOINT_URL", "DAGSTER_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("APPFLOW_FLOWS_DIR", str(project.flows))
    monkeypatch.setenv("APPFLOW_CONNECTIONS_DIR", str(project.connections))
    monkeypatch.setenv("APPFLOW_LOCAL_ROOT", str(project.data))
    monkeypatch.setenv("APPFLOW_STATE_DIR", str(project.state))
    return project


@pytest.fixture(scope="session")
def moto_server() -> Iterator[str]:
    """moto's server (S3, Secrets Manager) on a free port of 127.0.0.1 for the whole session,
    reached by the same boto3 code as production."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sandbox() -> Iterator[object]:
    """The Salesforce sandbox over real HTTP on 127.0.0.1 (5,000 records per object)."""
    from appflow_dagster.sandbox.salesforce import SalesforceSandbox

    with SalesforceSandbox(seed=7, records=5000, port=0) as sb:
        yield sb


@pytest.fixture
def demo_env(demo_project: DemoProject, sandbox: object, monkeypatch: pytest.MonkeyPatch) -> DemoProject:
    """The demo project with its connection pointed at the sandbox, as scripts/demo.sh does."""
    monkeypatch.setenv("APPFLOW_DEMO_SALESFORCE_URL", sandbox.url)  # type: ignore[attr-defined]
    monkeypatch.setenv("APPFLOW_DEMO_SALESFORCE_REFRESH_TOKEN", "appflow-sandbox-refresh")
    monkeypatch.setenv(
        "APPFLOW_DEMO_SALESFORCE_CLIENT_CREDENTIALS",
        json.dumps({"clientId": "appflow-sandbox", "clientSecret": "appflow-sandbox-secret"}),
    )
    return demo_project
