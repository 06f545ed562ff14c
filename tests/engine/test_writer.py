"""The output writer: aggregation, file sizes, partitions, formats, conversion failures."""

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from appflow_dagster.destinations import LocalFileStore
from appflow_dagster.destinations.commit import RunCommit
from appflow_dagster.engine.layout import Layout
from appflow_dagster.engine.writer import OutputWriter
from appflow_dagster.spec.model import AggregationConfig, OutputFormat

T = datetime(2022, 11, 10, tzinfo=UTC)


def batch(start: int, n: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "Id": [f"id-{i:06d}" for i in range(start, start + n)],
            "Text": [hashlib.sha256(str(i).encode()).hexdigest() for i in range(start, start + n)],
            "Rating": [("Hot", "Cold", None)[i % 3] for i in range(start, start + n)],
            "Amount": [float(i) for i in range(start, start + n)],
        }
    )


def writer(
    tmp_path: Path, file_type="JSON", agg: AggregationConfig | None = None, typed=False, **kw
) -> OutputWriter:
    store = LocalFileStore(tmp_path, "b")
    commit = RunCommit(store, "flow", "e1")
    commit.begin()
    return OutputWriter(commit, Layout("flow", "e1", T, OutputFormat(file_type, aggregation_config=agg or AggregationConfig(),
                                                                     preserve_source_data_typing=typed)), **kw)  # fmt: skip


def sizes(w: OutputWriter) -> list[int]:
    return [w.commit.store.size(w.commit.staged[f.key]) for f in w.files]


def test_no_aggregation_writes_a_file_per_batch(tmp_path: Path) -> None:
    w = writer(tmp_path)
    for i in range(3):
        w.write(batch(i * 10, 10))
    files = w.close()
    assert [f.key for f in files] == [f"flow/e1/e1-0000{i}.jsonl" for i in range(3)]
    assert [f.records for f in files] == [10, 10, 10]


def test_single_file_per_partition(tmp_path: Path) -> None:
    w = writer(tmp_path, agg=AggregationConfig("SingleFile"), partition_keys=["Rating"])
    for i in range(4):
        w.write(batch(i * 9, 9))
    files = sorted(w.close(), key=lambda f: f.key)
    assert [f.key for f in files] == [
        "flow/e1/Rating=Cold/e1-00000.jsonl",
        "flow/e1/Rating=Hot/e1-00000.jsonl",
        "flow/e1/Rating=null/e1-00000.jsonl",
    ]
    assert [f.records for f in files] == [12, 12, 12]


@pytest.mark.parametrize("file_type", ["JSON", "CSV", "PARQUET"])
def test_target_file_size(tmp_path: Path, file_type: str) -> None:
    target = 20_000
    w = writer(tmp_path, file_type, agg=AggregationConfig(target_file_size=1), target_file_bytes=target,
               row_group_rows=50)  # fmt: skip
    for i in range(20):
        w.write(batch(i * 100, 100))  # ~ 2,000 rows, ~ 240 KB of JSON
    files = w.close()
    assert sum(f.records for f in files) == 2000
    got = sizes(w)
    assert len(files) >= 5, got
    # every file but the last is about the target (within a quarter), none is far above it
    assert all(0.75 * target <= s <= 1.3 * target for s in got[:-1]), got
    assert got[-1] <= 1.3 * target


def test_target_file_size_in_mb_from_config(tmp_path: Path) -> None:
    w = writer(tmp_path, agg=AggregationConfig(target_file_size=1))
    assert w.target == 1024 * 1024
    assert writer(tmp_path / "x", agg=AggregationConfig("SingleFile", target_file_size=1)).target is None


def test_parquet_streams_row_groups(tmp_path: Path) -> None:
    w = writer(tmp_path, "PARQUET", agg=AggregationConfig("SingleFile"), row_group_rows=100)
    for i in range(10):
        w.write(batch(i * 50, 50))
    [f] = w.close()
    meta = pq.ParquetFile(tmp_path / "b" / w.commit.staged[f.key]).metadata
    assert meta.num_rows == 500 and meta.num_row_groups == 5


def test_typed_parquet_splits_off_records_that_do_not_convert(tmp_path: Path) -> None:
    w = writer(
        tmp_path,
        "PARQUET",
        typed=True,
        target_schema=pa.schema([("Id", pa.string()), ("Amount", pa.float64())]),
    )
    failed = w.write(pl.DataFrame({"Id": ["a", "b", "c"], "Amount": ["1.5", "oops", None]}))
    assert failed is not None and failed["Id"].to_list() == ["b"]
    assert failed["error"][0] == "Amount: cannot convert to Float64"
    [f] = w.close()
    table = pq.read_table(tmp_path / "b" / w.commit.staged[f.key])
    assert table.column("Amount").to_pylist() == [1.5, None]
    assert w.records_written == 2


def test_untyped_parquet_and_csv_write_nested_values_as_json(tmp_path: Path) -> None:
    df = pl.DataFrame({"addr": [{"city": "Paris"}, None], "tags": [["a", "b"], None], "ok": [True, False]})
    w = writer(tmp_path, "PARQUET", agg=AggregationConfig("SingleFile"))
    w.write(df)
    [f] = w.close()
    table = pq.read_table(tmp_path / "b" / w.commit.staged[f.key])
    assert table.to_pydict() == {
        "addr": ['{"city":"Paris"}', None],
        "tags": ['["a","b"]', None],
        "ok": ["true", "false"],
    }
