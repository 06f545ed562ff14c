"""The few calls the UI test makes to dagster-webserver's GraphQL API (the API the UI itself uses)."""

import time
from dataclasses import dataclass
from typing import Any

import httpx

WORKSPACE = """
query Workspace {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError {
          __typename
          ... on RepositoryLocation {
            name
            repositories { name jobs { name } schedules { name } }
          }
          ... on PythonError { message stack }
        }
      }
    }
    ... on PythonError { message stack }
  }
}
"""

LAUNCH_RUN = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on PythonError { message stack }
    ... on Error { message }
  }
}
"""

RUN_STATUS = """
query RunStatus($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run { status }
    ... on Error { message }
  }
}
"""

RUN_EVENTS = """
query RunEvents($runId: ID!) {
  logsForRun(runId: $runId, limit: 1000) {
    __typename
    ... on EventConnection {
      events {
        __typename
        ... on MessageEvent { message level stepKey }
        ... on ExecutionStepFailureEvent { error { message stack causes { message stack } } }
        ... on RunFailureEvent { pipelineFailureError: error { message stack } }
      }
    }
    ... on Error { message }
  }
}
"""

LATEST_MATERIALIZATION = """
query Latest($path: [String!]!) {
  assetOrError(assetKey: {path: $path}) {
    __typename
    ... on Asset {
      assetMaterializations(limit: 1) {
        runId
        partition
        metadataEntries {
          label
          __typename
          ... on IntMetadataEntry { intValue }
          ... on FloatMetadataEntry { floatValue }
          ... on TextMetadataEntry { text }
          ... on PathMetadataEntry { path }
          ... on UrlMetadataEntry { url }
        }
      }
    }
  }
}
"""

ASSET_PARTITIONS = """
query Partitions($path: [String!]!) {
  assetNodes(assetKeys: [{path: $path}]) { isPartitioned partitionKeys }
}
"""

ASSET_CHECKS = """
query Checks($path: [String!]!) {
  assetNodes(assetKeys: [{path: $path}]) {
    assetChecksOrError {
      __typename
      ... on AssetChecks { checks { name executionForLatestMaterialization { status } } }
    }
  }
}
"""


@dataclass(frozen=True)
class JobSelector:
    location: str
    repository: str
    job: str


@dataclass(frozen=True)
class Materialization:
    run_id: str
    metadata: dict[str, Any]


class DagsterAPI:
    """A thin GraphQL client for one dagster-webserver."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=30)

    def close(self) -> None:
        self._http.close()

    def query(self, document: str, **variables: Any) -> dict[str, Any]:
        response = self._http.post("/graphql", json={"query": document, "variables": variables})
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise AssertionError(f"GraphQL errors: {body['errors']}")
        return dict(body["data"])

    def location_entries(self) -> list[dict[str, Any]]:
        workspace = self.query(WORKSPACE)["workspaceOrError"]
        assert workspace["__typename"] == "Workspace", workspace
        return list(workspace["locationEntries"])

    def wait_for_locations(self, timeout: float = 90) -> list[dict[str, Any]]:
        """Wait until no code location is still loading (dagster dev loads them in the background)."""
        deadline = time.monotonic() + timeout
        entries: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            entries = self.location_entries()
            if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                return entries
            time.sleep(0.5)
        raise AssertionError(f"code locations still loading after {timeout:.0f}s: {entries}")

    def find_job(self, job: str) -> JobSelector:
        """Locate a job by name across locations and repositories (e.g. ``__repository__``)."""
        for entry in self.location_entries():
            location = entry["locationOrLoadError"]
            if location and location["__typename"] == "RepositoryLocation":
                for repo in location["repositories"]:
                    if job in {j["name"] for j in repo["jobs"]}:
                        return JobSelector(location["name"], repo["name"], job)
        raise AssertionError(f"job {job!r} not in any loaded code location")

    def launch(self, selector: JobSelector, tags: dict[str, str] | None = None) -> str:
        params = {
            "selector": {
                "repositoryLocationName": selector.location,
                "repositoryName": selector.repository,
                "jobName": selector.job,
            },
            "runConfigData": {},
            "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in (tags or {}).items()]},
        }
        result = self.query(LAUNCH_RUN, params=params)["launchRun"]
        assert result["__typename"] == "LaunchRunSuccess", f"launching {selector.job}: {result}"
        return str(result["run"]["runId"])

    def run_status(self, run_id: str) -> str:
        run = self.query(RUN_STATUS, runId=run_id)["runOrError"]
        assert run["__typename"] == "Run", run
        return str(run["status"])

    def run_errors(self, run_id: str) -> str:
        """The run's error-level events and failure stacks, for a readable failure message."""
        logs = self.query(RUN_EVENTS, runId=run_id)["logsForRun"]
        lines: list[str] = []
        for event in logs.get("events", []):
            error = event.get("error") or event.get("pipelineFailureError")
            if error:
                lines.append(
                    f"{event['__typename']}: {error['message']}\n{''.join(error.get('stack') or [])}"
                )
                for cause in error.get("causes") or []:
                    lines.append(f"  caused by: {cause['message']}\n{''.join(cause.get('stack') or [])}")
            elif event.get("level") in ("ERROR", "CRITICAL"):
                lines.append(f"{event['__typename']} [{event.get('stepKey')}]: {event.get('message')}")
        return "\n".join(lines) or f"(no error events; all events: {logs})"

    def wait_for_run(self, run_id: str, timeout: float = 90) -> str:
        """Poll until the run finishes; fail with its error events unless it succeeded."""
        deadline = time.monotonic() + timeout
        status = "?"
        while time.monotonic() < deadline:
            status = self.run_status(run_id)
            if status == "SUCCESS":
                return status
            if status in ("FAILURE", "CANCELED"):
                raise AssertionError(f"run {run_id} ended {status}:\n{self.run_errors(run_id)}")
            time.sleep(0.5)
        raise AssertionError(f"run {run_id} still {status} after {timeout:.0f}s")

    def latest_materialization(self, path: list[str]) -> Materialization | None:
        asset = self.query(LATEST_MATERIALIZATION, path=path)["assetOrError"]
        assert asset["__typename"] == "Asset", asset
        mats = asset["assetMaterializations"]
        if not mats:
            return None
        meta: dict[str, Any] = {}
        for entry in mats[0]["metadataEntries"]:
            values = [v for k, v in entry.items() if k not in ("label", "__typename")]
            meta[entry["label"]] = values[0] if values else entry["__typename"]
        return Materialization(run_id=str(mats[0]["runId"]), metadata=meta)

    def partition_keys(self, path: list[str]) -> list[str]:
        nodes = self.query(ASSET_PARTITIONS, path=path)["assetNodes"]
        assert nodes and nodes[0]["isPartitioned"], f"{'/'.join(path)} is not partitioned: {nodes}"
        return list(nodes[0]["partitionKeys"])

    def check_statuses(self, path: list[str]) -> dict[str, str | None]:
        """Each asset check's status for the asset's latest materialization (None: never ran)."""
        nodes = self.query(ASSET_CHECKS, path=path)["assetNodes"]
        assert nodes, f"no asset {'/'.join(path)}"
        checks = nodes[0]["assetChecksOrError"]
        assert checks["__typename"] == "AssetChecks", checks
        return {
            c["name"]: (c["executionForLatestMaterialization"] or {}).get("status") for c in checks["checks"]
        }
