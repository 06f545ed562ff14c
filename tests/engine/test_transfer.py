"""The transfer loop end to end on the local store: round trips, atomicity, partition replacement."""

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import orjson
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fakes import InMemorySource

from appflow_dagster.connectors.base import FieldInfo, ObjectInfo
from appflow_dagster.destinations import LocalFileStore, store_for
from appflow_dagster.engine.tasks import FlowTerminated
from appflow_dagster.engine.transfer import TransferResult, run_transfer
from appflow_dagster.engine.writer import DestinationError, committed_files
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

NOW = datetime(2022, 11, 10, 13, 5, tzinfo=UTC)
FIELDS = (
    FieldInfo("Id", "id", pa.string()),
    FieldInfo("Name", "string", pa.string()),
    FieldInfo("Rating", "picklist", pa.string()),
    FieldInfo("Amount", "double", pa.float64()),
    FieldInfo("CreatedDate", "datetime", pa.timestamp("ms", tz="UTC")),
)


class FakeSource(InMemorySource):
    """Accounts with a rating per record (None every third) and a fixed CreatedDate."""

    def __init__(
        self, n: int = 10, page: int = 4, fail_after: int | None = None, ratings=("Hot", "Warm", None)
    ):
        super().__init__(ObjectInfo("Account", "Account", FIELDS), n, page, fail_after)
        self.ratings = ratings

    def columns(self, ids: range) -> dict[str, list]:
        return {
            "Id": [f"001{i:05d}" for i in ids],
            "Name": [f"Example{i}" for i in ids],
            "Rating": [self.ratings[i % len(self.ratings)] for i in ids],
            "Amount": [i * 1.5 for i in ids],
            "CreatedDate": [datetime(2022, 11, 1, tzinfo=UTC) for _ in ids],
        }


def make_flow(
    file_type="JSON",
    *,
    prefix_config: PrefixConfig | None = None,
    aggregation: AggregationConfig | None = None,
    typed=False,
    partition_by: Sequence[str] = (),
    error_handling: ErrorHandling | None = None,
    name="example-flow",
    prefix: str | None = "out",
) -> FlowSpec:
    tasks = [Task("Map_all", (), "NO_OP")]
    if partition_by:
        tasks.append(Task("Partition", tuple(partition_by), "NO_OP"))
    return FlowSpec(
        name=name,
        source=Source("Salesforce", "sf", "Account"),
        destinations=(
            Destination(
                "S3",
                bucket_name="bucket",
                bucket_prefix=prefix,
                output_format=OutputFormat(
                    file_type, prefix_config or PrefixConfig(), aggregation or AggregationConfig(), typed
                ),
                error_handling=error_handling,
            ),
        ),
        tasks=tuple(tasks),
        trigger=Trigger("OnDemand"),
    )


def run(flow, source, root: Path, exec_id="exec-1", pk=None, **kw) -> TransferResult:
    return run_transfer(
        flow, source, execution_id=exec_id, window=None, partition_key=pk,
        store_resolver=lambda b: store_for(b, local_root=root), now=NOW, **kw,
    )  # fmt: skip


def visible(root: Path) -> list[str]:
    """What a Hive/Spark/Athena reader lists: files outside ``_``/``.``-prefixed folders."""
    out = []
    for p in root.rglob("*"):
        rel = p.relative_to(root)
        if p.is_file() and not any(part.startswith(("_", ".")) for part in rel.parts):
            out.append(rel.as_posix())
    return sorted(out)


def test_default_layout_json(tmp_path: Path) -> None:
    res = run(make_flow(), FakeSource(n=10, page=4), tmp_path)
    assert visible(tmp_path) == [
        "bucket/out/example-flow/exec-1/exec-1-00000.jsonl",
        "bucket/out/example-flow/exec-1/exec-1-00001.jsonl",
        "bucket/out/example-flow/exec-1/exec-1-00002.jsonl",
    ]
    assert res.records_read == res.records_written == 10
    assert res.output_uri == (tmp_path / "bucket/out/example-flow/exec-1").resolve().as_uri()
    rows = [orjson.loads(line) for f in sorted((tmp_path / "bucket/out/example-flow/exec-1").iterdir())
            for line in f.read_bytes().splitlines()]  # fmt: skip
    assert [r["Id"] for r in rows] == [f"001{i:05d}" for i in range(10)]
    assert res.bytes_written == sum(
        p.stat().st_size for p in (tmp_path / "bucket/out/example-flow/exec-1").iterdir()
    )


def test_guide_example_file_paths(tmp_path: Path) -> None:
    """001 ~19,790 "Example file paths for partitioned datasets", with the guide's own dataset."""

    class GuideSource(FakeSource):
        def __init__(self, fields):
            self.cols = fields
            self.info = ObjectInfo(
                "Account", "Account", tuple(FieldInfo(f, "string", pa.string()) for f in fields)
            )

        def read(
            self,
            object_name,
            fields=None,
            window=None,
            window_field=None,
            conditions=(),
            *,
            include_deleted=False,
        ):
            rows = [("Example1", "Hot", "Apparel")], [
                ("Example2", "Warm", "Biotechnology"), ("Example3", "Cold", "Construction"),
                ("Example4", None, "Consulting"), ("Example5", "Hot", "Education"),
                ("Example6", "Warm", "Electronics"), ("Example7", "Cold", "Energy"),
                ("Example8", None, "Hospitality"), ("Example9", "Hot", "Transportation"),
            ]  # fmt: skip
            for page in rows:
                yield pa.RecordBatch.from_pylist(
                    [dict(zip(("Account Name", "Account Rating", "Industry"), r, strict=True)) for r in page],
                    schema=self.info.schema,
                )

    source = GuideSource(["Account Name", "Account Rating", "Industry"])
    v1 = make_flow(
        prefix=None,
        prefix_config=PrefixConfig(path_prefix_hierarchy=("SCHEMA_VERSION", "EXECUTION_ID")),
        partition_by=["Account Rating"],
    )
    r1 = run(v1, source, tmp_path, exec_id="520225fa-0ffb-4c95-b5d1-a2a862081d27")
    v2 = make_flow(
        prefix=None,
        prefix_config=PrefixConfig("PATH", "DAY", ("SCHEMA_VERSION", "EXECUTION_ID")),
        partition_by=["Industry"],
    )
    r2 = run(v2, source, tmp_path, exec_id="267c0ad0-228f-4d25-96fe-0f975005fec6")
    assert (r1.schema_version, r2.schema_version) == (1, 2)
    folders = sorted({str(Path(f).parent) for f in visible(tmp_path / "bucket")})
    assert folders == sorted(
        [f"example-flow/schemaVersion_1/520225fa-0ffb-4c95-b5d1-a2a862081d27/Account Rating={v}"
         for v in ("Warm", "null", "Hot", "Cold")]
        + [f"example-flow/schemaVersion_2/2022/11/10/267c0ad0-228f-4d25-96fe-0f975005fec6/Industry={v}"
           for v in ("Apparel", "Biotechnology", "Construction", "Consulting", "Education", "Electronics",
                     "Energy", "Hospitality", "Transportation")]
    )  # fmt: skip
    # Running v1 again keeps its version.
    r3 = run(v1, source, tmp_path, exec_id="exec-again")
    assert r3.schema_version == 1


def test_csv_and_parquet_round_trip(tmp_path: Path) -> None:
    agg = AggregationConfig("SingleFile")
    csv = run(make_flow("CSV", aggregation=agg, name="csv"), FakeSource(), tmp_path)
    [csv_file] = csv.files
    back = pl.read_csv(csv_file.removeprefix("file://"), infer_schema=False)
    assert back.height == 10 and back.columns == ["Id", "Name", "Rating", "Amount", "CreatedDate"]
    assert back["CreatedDate"][0] == "2022-11-01T00:00:00.000Z"
    untyped = run(make_flow("PARQUET", aggregation=agg, name="pq"), FakeSource(), tmp_path)
    table = pq.read_table(untyped.files[0].removeprefix("file://"))
    assert all(t == pa.string() for t in table.schema.types)
    assert table.column("Amount").to_pylist()[:2] == ["0.0", "1.5"]
    typed = run(make_flow("PARQUET", aggregation=agg, typed=True, name="pqt"), FakeSource(), tmp_path)
    table = pq.read_table(typed.files[0].removeprefix("file://"))
    assert table.schema.field("Amount").type == pa.float64()
    assert table.schema.field("CreatedDate").type == pa.timestamp("ms", tz="UTC")
    assert table.num_rows == 10 and typed.schema.field("Amount").type == pa.float64()


def test_source_failure_commits_nothing_and_rerun_commits(tmp_path: Path) -> None:
    flow = make_flow()
    with pytest.raises(RuntimeError, match="source went away"):
        run(flow, FakeSource(n=20, page=4, fail_after=2), tmp_path, exec_id="bad")
    assert visible(tmp_path) == []
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []  # staging and run record removed too
    res = run(flow, FakeSource(n=20, page=4), tmp_path, exec_id="good")
    assert len(visible(tmp_path)) == 5 and res.records_written == 20


def test_flow_terminated_commits_nothing(tmp_path: Path) -> None:
    flow = make_flow()
    validate = Task("Validate", ("Rating",), "VALIDATE_NON_NULL", None,
                    {"VALIDATION_ACTION": "TerminateFlow"})  # fmt: skip
    flow = FlowSpec(flow.name, flow.source, flow.destinations, (*flow.tasks, validate), flow.trigger)
    with pytest.raises(FlowTerminated):
        run(flow, FakeSource(), tmp_path)
    assert visible(tmp_path) == []


def test_partition_rerun_replaces_only_that_partition(tmp_path: Path) -> None:
    flow = make_flow(prefix_config=PrefixConfig(path_prefix_hierarchy=("EXECUTION_ID",)))
    store = LocalFileStore(tmp_path, "bucket")
    a1 = run(flow, FakeSource(n=8), tmp_path, exec_id="a1", pk="2022-11-01")
    b1 = run(flow, FakeSource(n=8), tmp_path, exec_id="b1", pk="2022-11-02")
    a2 = run(flow, FakeSource(n=4), tmp_path, exec_id="a2", pk="2022-11-01")
    files = visible(tmp_path / "bucket")
    assert all("/a1/" not in f for f in files)
    assert len([f for f in files if "/b1/" in f]) == 2 and len([f for f in files if "/a2/" in f]) == 1
    assert [store.url(k) for k in committed_files(store, flow, "2022-11-01")] == a2.files
    assert [store.url(k) for k in committed_files(store, flow, "2022-11-02")] == b1.files
    assert set(a1.files).isdisjoint(a2.files)


def test_fail_on_first_destination_error(tmp_path: Path) -> None:
    arith = Task("Arithmetic", ("Name", "Amount"), "MULTIPLICATION", "Product", {})
    base = make_flow(error_handling=ErrorHandling(True))
    flow = FlowSpec(base.name, base.source, base.destinations, (*base.tasks, arith), base.trigger)
    with pytest.raises(DestinationError):
        run(flow, FakeSource(), tmp_path)
    assert visible(tmp_path) == []


def test_failed_records_go_to_the_error_location(tmp_path: Path) -> None:
    arith = Task("Arithmetic", ("Name", "Amount"), "MULTIPLICATION", "Product", {})
    base = make_flow(error_handling=ErrorHandling(False, "errors-bucket", "failed"))
    flow = FlowSpec(base.name, base.source, base.destinations, (*base.tasks, arith), base.trigger)
    res = run(flow, FakeSource(n=10), tmp_path)
    assert res.records_failed == 10 and res.records_written == 0
    assert visible(tmp_path / "errors-bucket") == ["failed/example-flow/exec-1/exec-1-errors-00000.jsonl"]
    lines = (
        (tmp_path / "errors-bucket/failed/example-flow/exec-1/exec-1-errors-00000.jsonl")
        .read_bytes()
        .splitlines()
    )
    assert len(lines) == 10 and "error" in orjson.loads(lines[0])


def test_progress_and_counts(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    res = run(make_flow(), FakeSource(n=10, page=4), tmp_path, on_progress=lambda r, w: seen.append((r, w)))
    assert seen == [(4, 4), (8, 8), (10, 10)]
    assert res.records_dropped == 0 and res.records_failed == 0


KILL_SCRIPT = """
import sys, time
from datetime import UTC, datetime
sys.path[:0] = [{tests!r}, {fakes!r}]
from test_transfer import FakeSource, make_flow, run

class Slow(FakeSource):
    def read(self, *a, **kw):
        for i, b in enumerate(super().read(*a, **kw)):
            if i == 3:
                print("mid-write", flush=True)
                time.sleep(60)
            yield b

run(make_flow(), Slow(n=40, page=4), __import__("pathlib").Path({root!r}), exec_id="killed")
"""


def test_kill_9_mid_write_leaves_nothing_visible(tmp_path: Path) -> None:
    script = KILL_SCRIPT.format(
        tests=str(Path(__file__).parent), fakes=str(Path(__file__).parents[1]), root=str(tmp_path)
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "mid-write"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert visible(tmp_path) == []
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert leftovers  # staged files and the run record were left behind ...
    res = run(make_flow(), FakeSource(n=8), tmp_path, exec_id="next")
    assert len(visible(tmp_path)) == 2 and res.records_written == 8
    # ... and the next run cleaned them up.
    remaining = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert not any("killed" in r for r in remaining), remaining


class FlakyStore(LocalFileStore):
    """A local bucket whose ``move`` number ``fail_move`` raises, and which can go down entirely
    (``down``: every later call raises) or refuse manifest puts (``fail_manifest``)."""

    def __init__(self, root: Path, bucket: str, fail_move: int = 0, down: bool = False,
                 fail_manifest: bool = False):  # fmt: skip
        super().__init__(root, bucket)
        self.fail_move, self.go_down, self.fail_manifest = fail_move, down, fail_manifest
        self.moves, self.is_down = 0, False

    def _check(self) -> None:
        if self.is_down:
            raise OSError("store unavailable")

    def move(self, src: str, dst: str) -> None:
        self._check()
        self.moves += 1
        if self.moves == self.fail_move:
            self.is_down = self.go_down
            raise OSError("S3 503 / disk full during promote")
        super().move(src, dst)

    def write_bytes(self, key: str, data: bytes) -> None:
        self._check()
        if self.fail_manifest and "/_appflow/executions/" in key:
            raise OSError("manifest put refused")
        super().write_bytes(key, data)

    def delete(self, keys: Sequence[str]) -> None:
        self._check()
        super().delete(keys)

    def delete_prefix(self, prefix: str) -> None:
        self._check()
        super().delete_prefix(prefix)


def _run_on(flow, store_for_bucket, exec_id: str, pk="p", now=NOW, n=10) -> TransferResult:
    return run_transfer(flow, FakeSource(n=n, page=4), execution_id=exec_id, window=None, partition_key=pk,
                        store_resolver=store_for_bucket, now=now)  # fmt: skip


def test_a_commit_failing_midway_leaves_exactly_the_previous_partition(tmp_path: Path) -> None:
    """The 5th promotion fails: the run's own promoted files go at once, not a day later."""
    flow = make_flow()
    r1 = run(flow, FakeSource(n=10, page=4), tmp_path, exec_id="run-1", pk="p")
    before = visible(tmp_path)
    flaky = FlakyStore(tmp_path, "bucket", fail_move=2)  # run-2's 2nd promotion of 3
    with pytest.raises(OSError, match="during promote"):
        _run_on(flow, lambda b: flaky, "run-2")
    assert visible(tmp_path) == before
    store = LocalFileStore(tmp_path, "bucket")
    assert [store.url(k) for k in committed_files(store, flow, "p")] == r1.files
    assert [p for p in tmp_path.rglob("*") if "/runs/" in p.as_posix() or ".staging" in p.as_posix()] == []


def test_a_step_retry_with_the_same_run_id_leaves_no_orphans(tmp_path: Path) -> None:
    """Attempt 1 dies mid-commit (store gone: nothing undone, its record stays); the retry keeps
    the run id, runs an hour later (another date folder) and settles attempt 1 first."""
    flow = make_flow(prefix_config=PrefixConfig("PATH", "HOUR"))
    run(flow, FakeSource(n=10, page=4), tmp_path, exec_id="run-1", pk="p")
    flaky = FlakyStore(tmp_path, "bucket", fail_move=3, down=True)
    with pytest.raises(OSError):
        _run_on(flow, lambda b: flaky, "run-2")
    assert any("/13/run-2/" in f for f in visible(tmp_path))  # attempt 1's promoted files
    later = NOW.replace(hour=14)
    r = _run_on(flow, lambda b: store_for(b, local_root=tmp_path), "run-2", now=later)
    assert visible(tmp_path) == [
        f"bucket/out/example-flow/2022/11/10/14/run-2/run-2-0000{i}.jsonl" for i in range(3)
    ]
    store = LocalFileStore(tmp_path, "bucket")
    assert [store.url(k) for k in committed_files(store, flow, "p")] == r.files


def _arith(flow: FlowSpec) -> FlowSpec:
    arith = Task("Arithmetic", ("Name", "Amount"), "MULTIPLICATION", "Product", {})
    return FlowSpec(flow.name, flow.source, flow.destinations, (*flow.tasks, arith), flow.trigger)


@pytest.mark.parametrize("location", ["errors-bucket", None])
def test_a_partition_rerun_without_failures_replaces_the_previous_error_records(
    tmp_path: Path, location: str | None
) -> None:
    good = make_flow(error_handling=ErrorHandling(False, location, "failed" if location else None))
    errors = (
        (tmp_path / "errors-bucket") if location else (tmp_path / "bucket/out/example-flow/_appflow/errors")
    )
    r1 = run(_arith(good), FakeSource(n=10), tmp_path, exec_id="run-1", pk="2024-01-01")
    assert r1.records_failed == 10 and len([p for p in errors.rglob("*.jsonl")]) == 1
    other = run(_arith(good), FakeSource(n=10), tmp_path, exec_id="other", pk="2024-01-02")
    r2 = run(good, FakeSource(n=10), tmp_path, exec_id="run-2", pk="2024-01-01")
    assert r2.records_failed == 0 and r2.error_files == []
    assert [p.name for p in errors.rglob("*.jsonl")] == [
        "other-errors-00000.jsonl"
    ]  # another partition's stay
    assert other.records_failed == 10


def test_data_and_error_output_commit_together(tmp_path: Path) -> None:
    """If the error commit fails, nothing commits; if the data commit fails after the error
    output's commit point, the error output is undone: the previous data and errors both stay."""
    eh = ErrorHandling(False, "errors-bucket", "failed")
    good, bad = make_flow(error_handling=eh), _arith(make_flow(error_handling=eh))

    def failing(bucket_that_fails: str):
        return lambda b: (
            FlakyStore(tmp_path, b, fail_manifest=True)
            if b == bucket_that_fails
            else store_for(b, local_root=tmp_path)
        )

    store = LocalFileStore(tmp_path, "bucket")
    for previous in (bad, good):  # previous errors, then previous data
        r = run(previous, FakeSource(n=10), tmp_path, exec_id=f"prev-{len(visible(tmp_path))}", pk="p")
        before = visible(tmp_path)
        assert len(before) == 1 if previous is bad else 3
        for bucket in ("errors-bucket", "bucket"):
            with pytest.raises(OSError, match="manifest put refused"):
                _run_on(bad, failing(bucket), "run-3")
            assert visible(tmp_path) == before
            assert [store.url(k) for k in committed_files(store, good, "p")] == r.files
            left = [p for p in tmp_path.rglob("*") if "/runs/" in p.as_posix() or ".staging" in p.as_posix()]
            assert left == []
