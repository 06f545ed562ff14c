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
from appflow_dagster.destinations.commit import CommitIncomplete, RunCommit, committed_files, recover
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


class Flaky:
    """A store that fails chosen calls: ``fail[name] = n`` fails the n-th call (1-based) of ``name``,
    ``fail[name] = "always"`` every call from now on; everything else goes to the wrapped store."""

    def __init__(self, inner: FileStore, **fail: int | str):
        self.inner, self.fail, self.calls = inner, dict(fail), dict.fromkeys(fail, 0)
        self.uri = inner.uri

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)
        if name not in self.fail:
            return target

        def call(*args: Any, **kw: Any) -> Any:
            self.calls[name] += 1
            if self.fail[name] in ("always", self.calls[name]):
                raise OSError(f"injected: {name} #{self.calls[name]}")
            return target(*args, **kw)

        return call


def _store(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> FileStore:
    return LocalFileStore(tmp_path, "b") if kind == "local" else request.getfixturevalue("s3")[0]


def _run(store: FileStore, exec_id: str, keys: list[str], pk: str | None = "p", **kw: Any) -> RunCommit:
    rc = RunCommit(store, "flow", exec_id, pk)
    rc.begin()
    for k in keys:
        store.write_bytes(rc.staging_key(k), exec_id.encode())
    return rc


def _meta_left(store: FileStore) -> list[str]:
    return [k for k in store.list("") if "/runs/" in k or "staging" in k]


OLD = ["flow/old/a.jsonl", "flow/old/b.jsonl"]
NEW = [f"flow/new/{i}.jsonl" for i in range(6)]


@pytest.mark.parametrize("kind", ["local", "s3"])
@pytest.mark.parametrize("fail", [{"move": 5}, {"write_bytes": 2}])
def test_a_commit_failing_before_its_commit_point_rolls_back_at_once(
    kind: str, fail: dict[str, int], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The 5th promotion, or the execution manifest's put, fails: the run's promoted files are
    deleted at once and exactly the previous committed state stays — no record for a later run."""
    store = _store(kind, tmp_path, request)
    _run(store, "old", OLD).commit()
    rc = _run(store, "new", NEW)
    rc.store = Flaky(store, **fail)  # type: ignore[assignment]  # write_bytes #1: the run record
    with pytest.raises(OSError, match="injected"):
        rc.commit()
    assert visible(store) == OLD
    assert committed_files(store, "flow", "p") == OLD
    assert not store.exists("flow/_appflow/executions/new.json")
    assert _meta_left(store) == []
    rc.abort()  # what the transfer's error path calls: harmless now
    assert visible(store) == OLD


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_a_commit_failing_after_its_commit_point_rolls_forward(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store = _store(kind, tmp_path, request)
    _run(store, "old", OLD).commit()
    # one failed delete of the replaced keys: rolled forward at once, the commit succeeds
    flaky = Flaky(store, delete=1)
    assert _run(flaky, "new", NEW[:2]).commit() == NEW[:2]  # type: ignore[arg-type]
    assert visible(store) == NEW[:2] and _meta_left(store) == []
    # the store stays down after the commit point: CommitIncomplete, the record stays and the
    # next run (any process) rolls it forward
    flaky = Flaky(store, delete="always")
    with pytest.raises(CommitIncomplete):
        _run(flaky, "newer", ["flow/newer/a.jsonl"]).commit()  # type: ignore[arg-type]
    assert committed_files(store, "flow", "p") == ["flow/newer/a.jsonl"]
    assert recover(store, "flow", current_execution_id="x", is_live=_never_live) == ["newer"]
    assert visible(store) == ["flow/newer/a.jsonl"] and _meta_left(store) == []


@pytest.mark.parametrize("kind", ["local", "s3"])
@pytest.mark.parametrize("died", ["promoting", "committed"])
def test_a_retry_with_the_same_execution_id_settles_the_failed_attempt(
    kind: str, died: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A Dagster step retry keeps the run id: ``begin`` rolls the dead attempt's record back (or
    forward) instead of overwriting it, so files it promoted under other keys are not orphaned."""
    store = _store(kind, tmp_path, request)
    _run(store, "old", OLD).commit()
    first = _run(store, "run", ["flow/13/run/0.jsonl", "flow/13/run/1.jsonl"])
    down = Flaky(store, move=2) if died == "promoting" else Flaky(store, delete="always")
    first.store = down  # type: ignore[assignment]
    down.fail["delete"] = "always"  # the store is gone: nothing can be undone, the record stays
    with pytest.raises((OSError, CommitIncomplete)):
        first.commit()
    assert store.list("flow/_appflow/runs/") and store.exists("flow/13/run/0.jsonl")
    retry = _run(store, "run", ["flow/14/run/0.jsonl"])  # same id, an hour later, new process
    assert retry.commit() == ["flow/14/run/0.jsonl"]
    assert visible(store) == ["flow/14/run/0.jsonl"]
    assert committed_files(store, "flow", "p") == ["flow/14/run/0.jsonl"]
    assert _meta_left(store) == []


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_an_unpartitioned_retry_replaces_its_own_earlier_commit(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store = _store(kind, tmp_path, request)
    _run(store, "run", ["flow/13/run/0.jsonl", "flow/13/run/1.jsonl"], pk=None).commit()
    _run(store, "run", ["flow/14/run/0.jsonl"], pk=None).commit()
    assert visible(store) == ["flow/14/run/0.jsonl"] == committed_files(store, "flow", None)


@pytest.mark.parametrize("kind", ["local", "s3"])
@pytest.mark.parametrize("cas", [True, False])
def test_concurrent_runs_of_a_partition_the_later_commit_supersedes(
    kind: str, cas: bool, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A scheduled and a manual run of one partition both read the previous manifest; ``a``
    commits while ``b`` is between its commit point and its partition manifest: ``b`` sees it on
    the re-read and deletes ``a``'s keys too."""
    store = _store(kind, tmp_path, request)
    if not cas:
        store = Flaky(store, read_versioned="always", write_bytes_if="always")  # type: ignore[assignment]
        store.read_versioned = None  # type: ignore[attr-defined]  # a store without compare-and-swap
        store.write_bytes_if = None  # type: ignore[attr-defined]
    _run(store, "old", OLD).commit()
    a = _run(store, "a", ["flow/a/0.jsonl"])
    b = _run(store, "b", ["flow/b/0.jsonl"])
    b.commit(then=a.commit)
    assert visible(store) == ["flow/b/0.jsonl"] == committed_files(store, "flow", "p")
    assert not store.exists("flow/_appflow/executions/a.json")
    assert _meta_left(store) == []


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_compare_and_swap_closes_the_window_after_the_re_read(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """``a`` commits between ``b``'s re-read of the partition manifest and ``b``'s write: the
    conditional write refuses, ``b`` re-reads, supersedes ``a``; nothing is orphaned."""
    store = _store(kind, tmp_path, request)
    _run(store, "old", OLD).commit()
    a = _run(store, "a", ["flow/a/0.jsonl"])
    inner_read = store.read_versioned  # type: ignore[attr-defined]
    state = {"n": 0}

    def read_then_race(key: str) -> tuple[bytes, str]:
        got = inner_read(key)
        state["n"] += 1
        if state["n"] == 1 and "/partitions/" in key:
            a.commit()  # lands after b's read, before b's write
        return got

    b = _run(store, "b", ["flow/b/0.jsonl"])
    store.read_versioned = read_then_race  # type: ignore[attr-defined]
    b.commit()
    assert visible(store) == ["flow/b/0.jsonl"] == committed_files(store, "flow", "p")
    assert _meta_left(store) == []
