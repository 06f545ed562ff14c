"""File sinks for AppFlow's S3 formats (JSON lines, CSV, Parquet), streaming batch by batch."""

from typing import Any, BinaryIO

import orjson
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

#: Parquet row groups are flushed at this many rows or this many in-memory bytes, whichever first.
ROW_GROUP_ROWS = 131_072
ROW_GROUP_BYTES = 64 * 1024 * 1024


_FRACTION = {"ms": "%.3f", "us": "%.6f", "ns": "%.9f"}


def _list_to_json(name: str, dtype: pl.DataType) -> pl.Expr:
    # polars has no list JSON encoder: encode {"name": [...]} and cut the wrapper off.
    head = len(orjson.dumps(name)) + 2  # '{' + "name" + ':'
    encoded = pl.struct(pl.col(name)).struct.json_encode()
    return (
        pl.when(pl.col(name).is_null())
        .then(None)
        .otherwise(encoded.str.slice(head, encoded.str.len_bytes() - head - 1))
    )


def string_expr(name: str, dtype: pl.DataType) -> pl.Expr:
    """``name`` as text, the way AppFlow writes untyped output: ISO-8601 times, JSON for nested values."""
    col = pl.col(name)
    if dtype == pl.String:
        return col
    if isinstance(dtype, pl.Datetime):
        fmt = "%Y-%m-%dT%H:%M:%S" + _FRACTION.get(dtype.time_unit or "us", "%.6f")
        if dtype.time_zone is not None:
            return col.dt.convert_time_zone("UTC").dt.to_string(fmt + "Z").alias(name)
        return col.dt.to_string(fmt).alias(name)
    if isinstance(dtype, pl.Struct):
        return pl.when(col.is_null()).then(None).otherwise(col.struct.json_encode()).alias(name)
    if isinstance(dtype, pl.List | pl.Array):
        return _list_to_json(name, dtype).alias(name)
    if dtype == pl.Binary:
        return col.bin.encode("base64").alias(name)
    return col.cast(pl.String, strict=False).alias(name)


def to_strings(df: pl.DataFrame) -> pl.DataFrame:
    """Every column as text (Parquet with ``preserveSourceDataTyping: false``, CSV)."""
    if all(dt == pl.String for dt in df.dtypes):
        return df
    return df.select([string_expr(n, dt) for n, dt in df.schema.items()])


def plain_schema(schema: pa.Schema) -> pa.Schema:
    """``large_string`` → ``string`` (what readers expect from a Parquet string column)."""
    return pa.schema(
        [f.with_type(pa.string()) if pa.types.is_large_string(f.type) else f for f in schema],
        metadata=schema.metadata,
    )


class Sink:
    """One open output file. ``size`` is what the file will weigh if closed now (estimated for
    buffered Parquet row groups)."""

    def __init__(self, stream: BinaryIO, key: str):
        self.stream = stream
        self.key = key
        self.records = 0
        self.columns: list[str] | None = None

    def write(self, df: pl.DataFrame) -> None:
        raise NotImplementedError

    @property
    def size(self) -> int:
        return self.stream.tell()

    def close(self) -> None:
        self.stream.close()

    def discard(self) -> None:
        discard = getattr(self.stream, "discard", None)
        if discard is not None:
            discard()
        elif not self.stream.closed:
            self.stream.close()


class JsonLinesSink(Sink):
    def write(self, df: pl.DataFrame) -> None:
        self.columns = self.columns or df.columns
        df.write_ndjson(self.stream)
        self.records += df.height


class CsvSink(Sink):
    def write(self, df: pl.DataFrame) -> None:
        first = self.columns is None
        self.columns = self.columns or df.columns
        to_strings(df).write_csv(self.stream, include_header=first)
        self.records += df.height


class ParquetSink(Sink):
    """Buffers Arrow tables into row groups of ``ROW_GROUP_ROWS`` and streams them out."""

    def __init__(self, stream: BinaryIO, key: str, *, typed: bool, row_group_rows: int = ROW_GROUP_ROWS):
        super().__init__(stream, key)
        self.typed = typed
        self.row_group_rows = row_group_rows
        self.schema: pa.Schema | None = None
        self._writer: pq.ParquetWriter | None = None
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        self._pending_bytes = 0
        self._ratio = 0.5  # written bytes per in-memory byte, learnt from flushed row groups
        self._flushed_mem = 0

    def arrow(self, df: pl.DataFrame) -> pa.Table:
        table = (df if self.typed else to_strings(df)).to_arrow(compat_level=pl.CompatLevel.oldest())
        if self.schema is None:
            self.schema = plain_schema(table.schema)
            self.columns = df.columns
        if table.schema != self.schema:
            table = table.cast(self.schema)
        return table

    def write(self, df: pl.DataFrame) -> None:
        table = self.arrow(df)
        self._pending.append(table)
        self._pending_rows += table.num_rows
        self._pending_bytes += table.nbytes
        self.records += table.num_rows
        if self._pending_rows >= self.row_group_rows or self._pending_bytes >= ROW_GROUP_BYTES:
            self._flush()

    def _flush(self) -> None:
        if not self._pending or self.schema is None:
            return
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.stream, self.schema, compression="snappy")
        table = pa.concat_tables(self._pending)
        self._writer.write_table(table, row_group_size=max(self.row_group_rows, table.num_rows))
        self._flushed_mem += self._pending_bytes
        if self._flushed_mem:
            self._ratio = max(self.stream.tell(), 1) / self._flushed_mem
        self._pending, self._pending_rows, self._pending_bytes = [], 0, 0

    @property
    def size(self) -> int:
        return self.stream.tell() + int(self._pending_bytes * self._ratio)

    def close(self) -> None:
        self._flush()
        if self._writer is None and self.schema is not None:
            self._writer = pq.ParquetWriter(self.stream, self.schema, compression="snappy")
        if self._writer is not None:
            self._writer.close()
        self.stream.close()


def open_sink(file_type: str, stream: BinaryIO, key: str, *, typed: bool, **kw: Any) -> Sink:
    if file_type == "PARQUET":
        return ParquetSink(stream, key, typed=typed, **kw)
    if file_type == "CSV":
        return CsvSink(stream, key)
    return JsonLinesSink(stream, key)
