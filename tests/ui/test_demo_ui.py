"""The demo, checked the way a user checks it: in the Dagster UI, in a real (headless) browser.

``scripts/demo.sh`` runs on free ports in a temp folder; a materialization is launched through the
webserver's GraphQL API (what the UI's Materialize button calls); then Chromium opens the pages a
user would look at and the test reads what they render.
"""

from pathlib import Path

import pytest

from .chromium import Chromium, chromium_binary
from .dagster_api import Materialization
from .demo_server import SANDBOX_SECRET, RunningDemo

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        chromium_binary() is None,
        reason="chromium is not on PATH (scripts/system_deps.sh installs Debian's chromium)",
    ),
]

LOCATION = "appflow_dagster"
ACCOUNT = ["appflow", "demo_account_on_demand"]
OPPORTUNITY = ["appflow", "demo_opportunity_daily"]
JOBS = {"appflow_demo_account_on_demand", "appflow_demo_opportunity_daily", "appflow_demo_contact_weekly"}
SCHEDULES = {"appflow_demo_opportunity_daily_schedule", "appflow_demo_contact_weekly_schedule"}


@pytest.fixture(scope="package")
def account_run(demo: RunningDemo) -> Materialization:
    """One materialization of the on-demand Account flow, launched as the UI's Materialize does."""
    demo.api.wait_for_locations()
    run_id = demo.api.launch(demo.api.find_job("appflow_demo_account_on_demand"))
    demo.api.wait_for_run(run_id, timeout=120)
    mat = demo.api.latest_materialization(ACCOUNT)
    assert mat is not None, f"run {run_id} succeeded but {'/'.join(ACCOUNT)} has no materialization"
    assert mat.run_id == run_id
    return mat


def _page(
    browser: Chromium, demo: RunningDemo, path: str, *needles: str, shot: Path, gone: tuple[str, ...] = ()
) -> str:
    """Open a UI page, wait until it shows every needle (and has stopped loading), screenshot it, and
    check that it leaks no secret."""
    browser.open(demo.url + path)
    text = browser.wait_for_text(*needles, gone=(*gone, "Loading..."), timeout=45, screenshot=shot)
    browser.screenshot(shot)
    assert SANDBOX_SECRET not in browser.html(), f"{path} renders the sandbox client secret"
    return text


def _formats(n: int) -> tuple[str, ...]:
    """How the UI may print an integer: 1234 or 1,234."""
    return (str(n), f"{n:,}")


def test_code_location_loads_without_errors(demo: RunningDemo) -> None:
    entries = {e["name"]: e for e in demo.api.wait_for_locations()}
    assert set(entries) == {LOCATION}
    location = entries[LOCATION]["locationOrLoadError"]
    assert location["__typename"] == "RepositoryLocation", (
        f"{LOCATION} failed to load: {location.get('message')}\n{''.join(location.get('stack') or [])}"
    )
    jobs = {j["name"] for repo in location["repositories"] for j in repo["jobs"]}
    schedules = {s["name"] for repo in location["repositories"] for s in repo["schedules"]}
    assert JOBS <= jobs
    assert SCHEDULES <= schedules


def test_asset_page_shows_the_materialization(
    demo: RunningDemo, browser: Chromium, account_run: Materialization, tmp_path: Path
) -> None:
    rows = account_run.metadata["dagster/row_count"]
    assert isinstance(rows, int) and rows > 0, account_run.metadata
    asset = "/assets/" + "/".join(ACCOUNT)
    # Overview: status, row count, and the column schema the materialization reported.
    text = _page(
        browser, demo, asset, "Latest materialization", "Row count", "Columns", shot=tmp_path / "asset.png"
    )
    assert "Never materialized" not in text
    assert any(f in text for f in _formats(rows)), f"row count {rows} not shown:\n{text[:3000]}"
    for column in ("Id", "Name", "LastModifiedDate"):
        assert f"\n{column}\n" in text, f"column {column} not listed:\n{text[:3000]}"
    # Events: the materialization, its run, and the AppFlow metadata.
    text = _page(
        browser,
        demo,
        asset + "?view=events",
        f"Materialized in run {account_run.run_id[:8]}",
        "dagster/row_count",
        "dagster/uri",
        "appflow/execution_id",
        "appflow/records_written",
        shot=tmp_path / "asset_events.png",
    )
    assert account_run.run_id in text  # appflow/execution_id is the Dagster run id
    # The files landed where the materialization says, under the demo's local root.
    assert account_run.metadata["appflow/execution_id"] == account_run.run_id
    run_dir = demo.data / "appflow-demo" / "salesforce" / "demo-account-on-demand" / account_run.run_id
    assert run_dir.is_dir() and list(run_dir.glob("*.parquet")), f"no Parquet file under {run_dir}"


def test_lineage_shows_the_salesforce_source(
    demo: RunningDemo, browser: Chromium, account_run: Materialization, tmp_path: Path
) -> None:
    asset = "/assets/" + "/".join(ACCOUNT)
    _page(browser, demo, asset, "Upstream assets", "salesforce / Account", shot=tmp_path / "overview.png")
    # The upstream graph: the source object's node (group "sources") feeds the flow's, now materialized.
    text = _page(
        browser,
        demo,
        asset + "?view=lineage&lineageScope=upstream",
        "sources",
        "Account",
        "appflow",
        "demo_account_on_demand",
        "Materialized",
        shot=tmp_path / "lineage.png",
    )
    assert "Opportunity" not in text and "Contact" not in text  # only this flow's own source
    # The global lineage lists both groups.
    _page(
        browser,
        demo,
        "/asset-groups",
        "Global asset lineage",
        "appflow",
        "sources",
        shot=tmp_path / "graph.png",
    )


def test_asset_checks_ran_with_the_materialization(
    demo: RunningDemo, browser: Chromium, account_run: Materialization, tmp_path: Path
) -> None:
    statuses = demo.api.check_statuses(ACCOUNT)
    if not statuses:
        pytest.skip(f"{'/'.join(ACCOUNT)} defines no asset checks")
    assert set(statuses.values()) == {"SUCCEEDED"}, statuses
    text = _page(
        browser,
        demo,
        "/assets/" + "/".join(ACCOUNT) + "?view=checks",
        f"Checks ({len(statuses)})",
        *statuses,
        shot=tmp_path / "checks.png",
    )
    for name in statuses:
        assert f"{name}\nSucceeded" in text, f"check {name} not shown as succeeded:\n{text[:3000]}"


def test_partitioned_flow_shows_its_partitions(demo: RunningDemo, browser: Chromium, tmp_path: Path) -> None:
    keys = demo.api.partition_keys(OPPORTUNITY)
    assert len(keys) >= 28, keys  # 30 daily windows before first load, by default
    _page(
        browser,
        demo,
        "/assets/" + "/".join(OPPORTUNITY) + "?view=partitions",
        "demo_opportunity_daily",
        keys[0],
        keys[-1],
        f"Missing ({len(keys)})",
        shot=tmp_path / "partitions.png",
    )


def test_schedules_are_listed(demo: RunningDemo, browser: Chromium, tmp_path: Path) -> None:
    _page(browser, demo, "/automation", *sorted(SCHEDULES), shot=tmp_path / "automation.png")


def test_no_secret_in_pages_or_logs(
    demo: RunningDemo, browser: Chromium, account_run: Materialization, tmp_path: Path
) -> None:
    _page(
        browser,
        demo,
        f"/runs/{account_run.run_id}",
        account_run.run_id[:8],
        "Success",
        "RUN_SUCCESS",
        shot=tmp_path / "run.png",
    )
    log = demo.log_text()
    assert "Serving dagster-webserver" in log, log[-3000:]
    assert SANDBOX_SECRET not in log
    leaked = [
        p.relative_to(demo.dagster_home)
        for p in demo.dagster_home.rglob("*")
        if p.is_file() and SANDBOX_SECRET.encode() in p.read_bytes()
    ]
    assert not leaked, f"the sandbox client secret is stored in {leaked}"
