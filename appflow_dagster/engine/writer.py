"""The S3 output writer: Partition folders, aggregation and file formats, staged for an atomic commit.

Batches arrive one at a time and are streamed into open files, so memory is bounded by a batch
plus the open files' buffers (a Parquet row group per open file at most).

Aggregation (001, "Partitioning and aggregating", ~19,770):

* ``aggregationType: None`` without ``targetFileSize`` — a file per source batch (API page) and
  partition folder;
* ``SingleFile`` — one file per partition folder;
* ``targetFileSize`` (MB, with ``aggregationType: None``) — files of about that size per folder: a
  batch is sliced at the row count that fills the current file, judged from the bytes per record
  written so far.
"""

import logging
from dataclasses import dataclass
from typing import Any

import orjson
import polars as pl
import pyarrow as pa

from appflow_dagster.destinations.base import FileStore, join_key
from appflow_dagster.destinations.commit import RunCommit, read_json
from appflow_dagster.destinations.commit import committed_files as _committed_files
from appflow_dagster.destinations.formats import Sink, open_sink, plain_schema, string_expr
from appflow_dagster.engine.layout import Layout, flow_root
from appflow_dagster.spec.model import AggregationConfig, FlowSpec

log = logging.getLogger(__name__)

MB = 1024 * 1024
Partition = tuple[tuple[str, str | None], ...]


class DestinationError(RuntimeError):
    """A record could not be written and ``failOnFirstDestinationError`` is true: nothing is committed."""


@dataclass(frozen=True)
class WrittenFile:
    key: str  # final key
    records: int
    partition: Partition
    bytes: int = 0


def committed_files(store: FileStore, flow: FlowSpec | str, partition_key: str | None) -> list[str]:
    """Final keys of the committed output of ``partition_key`` (``flow`` or its root ``prefix/flowName``)."""
    root = flow if isinstance(flow, str) else flow_root(flow)
    return _committed_files(store, root, partition_key)


def schema_versions_key(root: str) -> str:
    return join_key(root, "_appflow", "schema_versions.json")


def resolve_schema_version(store: FileStore, root: str, signature: str) -> tuple[int, bool]:
    """``(N, is_new)`` for ``signature``: its recorded version, or one past the highest."""
    versions: dict[str, int] = read_json(store, schema_versions_key(root)) or {}
    if signature in versions:
        return versions[signature], False
    return max(versions.values(), default=0) + 1, True


def record_schema_version(store: FileStore, root: str, signature: str, version: int) -> None:
    versions: dict[str, int] = read_json(store, schema_versions_key(root)) or {}
    if versions.get(signature) != version:
        versions[signature] = version
        store.write_bytes(schema_versions_key(root), orjson.dumps(versions, option=orjson.OPT_INDENT_2))


class OutputWriter:
    """Writes a run's batches into staged files of ``layout``; :meth:`close` returns them."""

    def __init__(
        self,
        commit: RunCommit,
        layout: Layout,
        *,
        partition_keys: list[str] | None = None,
        target_file_bytes: int | None = None,
        row_group_rows: int | None = None,
        target_schema: pa.Schema | None = None,
    ):
        self.commit = commit
        self.layout = layout
        out = layout.output
        self.file_type = out.file_type
        self.typed = out.preserve_source_data_typing
        self.partition_keys = list(partition_keys or [])
        agg: AggregationConfig = out.aggregation_config
        self.single_file = agg.aggregation_type == "SingleFile"
        if target_file_bytes is None and agg.target_file_size and not self.single_file:
            target_file_bytes = int(agg.target_file_size) * MB
        self.target = None if self.single_file else target_file_bytes
        self.keep_open = self.single_file or self.target is not None
        self.sink_kw: dict[str, Any] = {"row_group_rows": row_group_rows} if row_group_rows else {}
        self._open: dict[Partition, Sink] = {}
        self._parts: dict[Partition, int] = {}
        self._rows_written = 0
        self._bytes_closed = 0
        self._rows_closed = 0
        self.files: list[WrittenFile] = []
        self.schema: pa.Schema | None = None
        self.records_written = 0
        #: Typed Parquet only: the column types every batch is converted to (first batch's if None).
        self._types: dict[str, pl.DataType] | None = None
        if target_schema is not None and self.file_type == "PARQUET" and self.typed:
            empty = pl.from_arrow(target_schema.empty_table())
            assert isinstance(empty, pl.DataFrame)
            self._types = dict(empty.schema)

    # -- batches ------------------------------------------------------------------------------------

    def write(self, df: pl.DataFrame) -> pl.DataFrame | None:
        """Write a batch; return the records that could not be converted (with an ``error``), if any."""
        if df.height == 0:
            return None
        failed = None
        if self.file_type == "PARQUET" and self.typed:
            df, failed = self._conform(df)
        if self.schema is None:
            self.schema = self._file_schema(df)
        for partition, part in self._split(df):
            self._write_partition(partition, part)
        self.records_written += df.height
        return failed

    def _conform(self, df: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame | None]:
        """Cast to the file's column types; records whose values do not convert are split off."""
        schema = df.schema  # one polars Schema per batch: building it costs per column
        if self._types is None:
            self._types = dict(schema)
        casts = {n: t for n, t in self._types.items() if n in schema and schema[n] != t}
        if not casts:
            return df, None
        converted = df.with_columns(pl.col(n).cast(t, strict=False) for n, t in casts.items())
        lost = [
            pl.when(df[n].is_not_null() & converted[n].is_null()).then(pl.lit(f"{n}: cannot convert to {t}"))
            for n, t in casts.items()
        ]
        errors = pl.concat_str(lost, separator="; ", ignore_nulls=True) if len(lost) > 1 else lost[0]
        marked = df.with_columns(errors.alias("error"))
        bad = marked["error"].is_not_null()
        if not bad.any():
            return converted, None
        return converted.filter(~bad), marked.filter(bad)

    def _file_schema(self, df: pl.DataFrame) -> pa.Schema:
        if self.file_type == "PARQUET" and not self.typed or self.file_type == "CSV":
            return pa.schema([pa.field(n, pa.string()) for n in df.columns])
        return plain_schema(df.head(0).to_arrow(compat_level=pl.CompatLevel.oldest()).schema)

    def _split(self, df: pl.DataFrame) -> list[tuple[Partition, pl.DataFrame]]:
        keys = self.partition_keys
        if not keys:
            return [((), df)]
        tmp = [f"__appflow_pk{i}" for i in range(len(keys))]
        keyed = df.with_columns(string_expr(k, df.schema[k]).alias(t) for k, t in zip(keys, tmp, strict=True))
        groups = keyed.partition_by(tmp, maintain_order=True, as_dict=True)
        return [
            (tuple(zip(keys, values, strict=True)), group.drop(tmp))  # type: ignore[arg-type]
            for values, group in groups.items()
        ]

    def _new_sink(self, partition: Partition) -> Sink:
        part = self._parts.get(partition, 0)
        self._parts[partition] = part + 1
        final = self.layout.file_key(partition, part)
        stream = self.commit.store.open_write(self.commit.staging_key(final))
        return open_sink(self.file_type, stream, final, typed=self.typed, **self.sink_kw)

    def _write_partition(self, partition: Partition, df: pl.DataFrame) -> None:
        if not self.keep_open:
            one = self._new_sink(partition)
            try:
                one.write(df)
            except BaseException:
                one.discard()
                raise
            self._close(partition, one)
            return
        while df.height:
            sink: Sink | None = self._open.get(partition)
            if sink is not None and sink.columns is not None and sink.columns != df.columns:
                self._close(partition, self._open.pop(partition))  # new columns: a new file
                sink = None
            if sink is None:
                sink = self._open[partition] = self._new_sink(partition)
            take = self._rows_that_fit(sink, df)
            sink.write(df.slice(0, take))
            df = df.slice(take)
            if self.target is not None and sink.size >= self.target:
                self._close(partition, self._open.pop(partition))

    def _rows_that_fit(self, sink: Sink, df: pl.DataFrame) -> int:
        if self.target is None:
            return df.height
        per_row = self._bytes_per_row(df)
        room = max(self.target - sink.size, 0)
        return max(1, min(df.height, int(room / per_row) if per_row else df.height))

    def _bytes_per_row(self, df: pl.DataFrame) -> float:
        if self._rows_closed:
            return self._bytes_closed / self._rows_closed
        open_rows = sum(s.records for s in self._open.values())
        open_bytes = sum(s.size for s in self._open.values())
        if open_rows and open_bytes:
            return open_bytes / open_rows
        # No evidence yet: JSON/CSV text is roughly the in-memory size; Parquet compresses.
        factor = 0.5 if self.file_type == "PARQUET" else 1.2
        return max(df.estimated_size() / max(df.height, 1) * factor, 1.0)

    def _close(self, partition: Partition, sink: Sink) -> None:
        sink.close()
        size = self.commit.store.size(self.commit.staged[sink.key])
        self._bytes_closed += size
        self._rows_closed += sink.records
        self.files.append(WrittenFile(sink.key, sink.records, partition, size))

    # -- end of run ---------------------------------------------------------------------------------

    def close(self) -> list[WrittenFile]:
        """Close every open file (still staged); the caller commits."""
        while self._open:
            partition, sink = self._open.popitem()
            self._close(partition, sink)
        return self.files

    def abort(self) -> None:
        """Drop open files without uploading; the caller aborts the commit."""
        while self._open:
            _, sink = self._open.popitem()
            try:
                sink.discard()
            except Exception:
                log.debug("discarding %s failed", sink.key, exc_info=True)


class ErrorWriter:
    """Failed records as JSON lines (with their ``error``) under the error location, staged like data."""

    def __init__(self, commit: RunCommit, root: str, execution_id: str):
        self.commit = commit
        self.folder = join_key(root, execution_id)
        self.execution_id = execution_id
        self._sink: Sink | None = None
        self.records = 0
        self.files: list[str] = []

    def write(self, failed: pl.DataFrame) -> None:
        if failed.height == 0:
            return
        if self._sink is None:
            final = join_key(self.folder, f"{self.execution_id}-errors-00000.jsonl")
            stream = self.commit.store.open_write(self.commit.staging_key(final))
            self._sink = open_sink("JSON", stream, final, typed=True)
        self._sink.write(failed)
        self.records += failed.height

    def close(self) -> list[str]:
        if self._sink is not None:
            self._sink.close()
            self.files.append(self._sink.key)
            self._sink = None
        return self.files

    def abort(self) -> None:
        if self._sink is not None:
            self._sink.discard()
            self._sink = None
