"""The commit protocol on S3 (moto) and locally: transfers, replacement, recovery of dead runs."""

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fakes import InMemorySource

from appflow_dagster.connectors.base import FieldInfo, ObjectInfo
from appflow_dagster.destinations import LocalFileStore, S3FileStore, store_for
from appflow_dagster.destinations.base import FileStore
from appflow_dagster.destinations.commit import RunCommit, committed_files, recover
from appflow_dagster.engine.transfer import run_transfer
from appflow_dagster.spec.model import (
    AggregationConfig,
    Destination,
    ErrorHandling,
    FlowSpec,
    OutputFormat,
    PrefixConfig,
    Source,
    Task,
    Trigger,
)

INFO = ObjectInfo(
    "Account", None, (FieldInfo("Id", "id", pa.string()), FieldInfo("Amount", "double", pa.float64()))
)


class Source_(InMemorySource):
    error = ConnectionError

    def __init__(self, n: int, page: int = 5, fail_after: int | None = None):
        super().__init__(INFO, n, page, fail_after)

    def columns(self, ids: range) -> dict[str, list]:
        return {"Id": [str(i) for i in ids], "Amount": [i / 2 for i in ids]}


def flow(bucket: str, **out: Any) -> FlowSpec:
    return FlowSpec(
        name="acct",
        source=Source("Salesforce", None, "Account"),
        destinations=(
            Destination(
                "S3",
                bucket_name=bucket,
                bucket_prefix="raw",
                output_format=OutputFormat(**out),
                error_handling=ErrorHandling(False, bucket, "errors"),
            ),
        ),  # fmt: skip
        tasks=(Task("Map_all", (), "NO_OP"),),
        trigger=Trigger("OnDemand"),
    )


def visible(store: FileStore) -> list[str]:
    return sorted(k for k in store.list("") if not any(p.startswith(("_", ".")) for p in k.split("/")))


@pytest.fixture
def s3(
    s3_client_factory: Callable[[], Any], s3_bucket: str
) -> tuple[S3FileStore, Callable[[str], FileStore]]:
    client = s3_client_factory()
    return S3FileStore(client, s3_bucket), lambda b: store_for(b, s3_client_factory=lambda: client)


def test_transfer_to_s3_parquet_and_replace_partition(s3) -> None:
    store, resolve = s3
    f = flow(store.bucket, file_type="PARQUET", preserve_source_data_typing=True,
             prefix_config=PrefixConfig("PATH", "DAY", ("EXECUTION_ID",)))  # fmt: skip
    now = datetime(2022, 11, 10, tzinfo=UTC)
    r1 = run_transfer(
        f, Source_(12), execution_id="e1", window=None, partition_key="p1", store_resolver=resolve, now=now
    )
    assert visible(store) == [f"raw/acct/2022/11/10/e1/e1-0000{i}.parquet" for i in range(3)]
    assert r1.output_uri == f"s3://{store.bucket}/raw/acct/2022/11/10/e1"
    body = store.read_bytes("raw/acct/2022/11/10/e1/e1-00000.parquet")
    assert pq.read_table(pa.BufferReader(body)).schema.field("Amount").type == pa.float64()
    assert not [k for k in store.list("") if "_staging" in k or "/runs/" in k]
    # a run that fails midway leaves the committed partition as it was
    with pytest.raises(ConnectionError):
        run_transfer(f, Source_(12, fail_after=1), execution_id="e2", window=None, partition_key="p1",
                     store_resolver=resolve, now=now)  # fmt: skip
    assert visible(store) == [f"raw/acct/2022/11/10/e1/e1-0000{i}.parquet" for i in range(3)]
    assert not [k for k in store.list("") if "_staging" in k]
    r3 = run_transfer(
        f, Source_(4), execution_id="e3", window=None, partition_key="p1", store_resolver=resolve, now=now
    )
    assert visible(store) == ["raw/acct/2022/11/10/e3/e3-00000.parquet"]
    assert [store.url(k) for k in committed_files(store, "raw/acct", "p1")] == r3.files


def test_s3_single_file_json(s3) -> None:
    store, resolve = s3
    f = flow(store.bucket, aggregation_config=AggregationConfig("SingleFile"))
    res = run_transfer(
        f, Source_(23), execution_id="e1", window=None, partition_key=None, store_resolver=resolve
    )
    assert res.files == [f"s3://{store.bucket}/raw/acct/e1/e1-00000.jsonl"]
    lines = store.read_bytes("raw/acct/e1/e1-00000.jsonl").splitlines()
    assert [orjson.loads(x)["Id"] for x in lines] == [str(i) for i in range(23)]
    assert res.bytes_written == store.size("raw/acct/e1/e1-00000.jsonl")


def _never_live(rec: dict[str, Any]) -> bool:
    return False


@pytest.mark.parametrize("kind", ["local", "s3"])
@pytest.mark.parametrize("crash_after", ["staged", "promoted", "committed"])
def test_recovery_of_a_dead_run(
    kind: str, crash_after: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A run that died at each step is rolled back (before the commit point) or forward (after)."""
    store: FileStore = LocalFileStore(tmp_path, "b") if kind == "local" else request.getfixturevalue("s3")[0]
    old = RunCommit(store, "flow", "old", "p")
    old.begin()
    store.write_bytes(old.staging_key("flow/old/a.jsonl"), b"1")
    old.commit()
    new = RunCommit(store, "flow", "new", "p")
    new.begin()
    store.write_bytes(new.staging_key("flow/new/a.jsonl"), b"2")
    # simulate the crash: run commit steps by hand up to the chosen point
    new._write_record(
        "committing", files=["flow/new/a.jsonl"], replaces=["flow/old/a.jsonl"], replaces_execution="old"
    )
    if crash_after in ("promoted", "committed"):
        store.move(new.staged["flow/new/a.jsonl"], "flow/new/a.jsonl")
    if crash_after == "committed":
        store.write_bytes("flow/_appflow/executions/new.json",
                          orjson.dumps({"execution_id": "new", "partition_key": "p", "files": ["flow/new/a.jsonl"]}))  # fmt: skip
    assert recover(store, "flow", current_execution_id="next", is_live=_never_live) == ["new"]
    expected = ["flow/new/a.jsonl"] if crash_after == "committed" else ["flow/old/a.jsonl"]
    assert visible(store) == expected
    assert committed_files(store, "flow", "p") == expected
    assert not [k for k in store.list("") if "/runs/" in k or "staging" in k]


def test_live_runs_are_left_alone(tmp_path: Path) -> None:
    store = LocalFileStore(tmp_path, "b")
    live = RunCommit(store, "flow", "live", None)
    live.begin()  # this process: alive
    store.write_bytes(live.staging_key("flow/live/x.jsonl"), b"1")
    assert recover(store, "flow", current_execution_id="other") == []
    assert store.exists(live.staged["flow/live/x.jsonl"])
