"""The transfer loop end to end on the local store: round trips, atomicity, partition replacement."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import orjson
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from appflow_dagster.connectors.base import Condition, FieldInfo, ObjectInfo, Window
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


class FakeSource:
    """An in-memory SourceConnector: ``pages`` record batches, optionally failing after ``fail_after``."""

    def __init__(self, n: int = 10, page: int = 4, fail_after: int | None = None, ratings=("Hot", "Warm", None)):
        self.n, self.page, self.fail_after, self.ratings = n, page, fail_after, ratings
        self.info = ObjectInfo("Account", "Account", FIELDS)

    def list_objects(self) -> list[str]:
        return ["Account"]

    def describe(self, object_name: str) -> ObjectInfo:
        return self.info

    def can_push_down(self, object_name: str, condition: Condition) -> bool:
        return False

    def read(self, object_name, fields=None, window=None, window_field=None, conditions=()) -> Iterator[pa.RecordBatch]:
        for i, start in enumerate(range(0, self.n, self.page)):
            if self.fail_after is not None and i >= self.fail_after:
                raise RuntimeError("source went away")
            ids = range(start, min(start + self.page, self.n))
            yield pa.RecordBatch.from_pydict(
                {
                    "Id": [f"001{i:05d}" for i in ids],
                    "Name": [f"Example{i}" for i in ids],
                    "Rating": [self.ratings[i % len(self.ratings)] for i in ids],
                    "Amount": [i * 1.5 for i in ids],
                    "CreatedDate": [datetime(2022, 11, 1, tzinfo=UTC) for _ in ids],
                },
                schema=self.info.schema,
            )

    def close(self) -> None:
        pass


def make_flow(
    file_type="JSON",
    *,
    prefix_config=PrefixConfig(),
    aggregation=AggregationConfig(),
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
                output_format=OutputFormat(file_type, prefix_config, aggregation, typed),
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
    assert res.bytes_written == sum(p.stat().st_size for p in (tmp_path / "bucket/out/example-flow/exec-1").iterdir())
