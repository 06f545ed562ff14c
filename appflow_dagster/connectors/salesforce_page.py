"""Turn one Salesforce query-result page into an Arrow record batch without per-record Python.

A page is ``{"totalSize": N, "done": bool, "nextRecordsUrl": "...", "records": [...]}``. Building a
Python dict per record is the bottleneck of a REST read, so the ``records`` array's bytes are sliced
out of the body (only the small envelope goes through ``orjson``) and parsed by polars' native JSON
reader with an explicit schema. Salesforce datetimes (``2024-05-01T12:34:56.000+0000``) are read as
strings and converted column-wise. Anything unexpected falls back to a full ``orjson`` parse, so the
fast path is an optimisation, never a different answer.
"""

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from appflow_dagster.connectors.base import ConnectorError, FieldInfo

__all__ = ["FrameSpec", "Page", "parse_page", "records_to_batch", "records_to_frame", "split_page"]

_KEY = b'"records"'
#: ``2024-05-01T12:34:56.000+0000``: the REST API's datetime format, always UTC.
_SF_DATETIME_LEN = 28


@dataclass(frozen=True)
class Page:
    done: bool
    next_records_url: str | None
    total_size: int | None
    #: The raw ``records`` JSON array (``b"[...]"``), or the parsed list when the fast path bailed out.
    records: bytes | list[Any]


def split_page(body: bytes) -> Page:
    """Separate the envelope (parsed) from the ``records`` array (left as bytes when possible)."""
    fast = _split_fast(body)
    if fast is not None:
        return fast
    try:
        obj = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ConnectorError(
            f"Salesforce returned a page that is not JSON ({exc})", code="BAD_RESPONSE"
        ) from None
    if not isinstance(obj, dict) or not isinstance(obj.get("records"), list):
        raise ConnectorError("Salesforce returned a page without a records array", code="BAD_RESPONSE")
    return _page(obj, obj["records"])


def _page(envelope: dict[str, Any], records: bytes | list[Any]) -> Page:
    total = envelope.get("totalSize")
    return Page(
        done=bool(envelope.get("done", True)),
        next_records_url=envelope.get("nextRecordsUrl") or None,
        total_size=total if isinstance(total, int) else None,
        records=records,
    )


def _split_fast(body: bytes) -> Page | None:
    # Index arithmetic instead of slicing: a page is ~2 MB and only the records array is copied.
    n = len(body)
    s, e = _skip_ws(body, 0, n), _rskip_ws(body, 0, n)
    if e - s < 2 or body[s] != 0x7B or body[e - 1] != 0x7D:  # { ... }
        return None
    idx = body.find(_KEY, s, e)
    if idx < 0:
        return None
    # Everything before the key must be complete top-level members: then the key is top-level too
    # (a "records" inside a string or nested object would leave the prefix unparseable).
    head = body[s + 1 : idx].rstrip()
    if head.endswith(b","):
        head = head[:-1]
    try:
        envelope = orjson.loads(b"{" + head + b"}")
    except orjson.JSONDecodeError:
        return None
    pos = _skip_ws(body, idx + len(_KEY), e)
    if pos >= e or body[pos] != 0x3A:  # :
        return None
    start = _skip_ws(body, pos + 1, e)
    if start >= e or body[start] != 0x5B:  # [
        return None
    end = body.rfind(b"]", start, e - 1)
    if end < 0:
        return None
    tail = body[end + 1 : e - 1].strip()
    if tail:
        if not tail.startswith(b","):
            return None
        try:
            trailing = orjson.loads(b"{" + tail[1:] + b"}")
        except orjson.JSONDecodeError:
            return None
        envelope.update(trailing)
    return _page(envelope, body[start : end + 1])


_WS = frozenset(b" \t\r\n")


def _skip_ws(b: bytes, i: int, end: int) -> int:
    while i < end and b[i] in _WS:
        i += 1
    return i


def _rskip_ws(b: bytes, start: int, end: int) -> int:
    while end > start and b[end - 1] in _WS:
        end -= 1
    return end


def _loose_type(t: pa.DataType) -> pl.DataType:
    """The polars type the JSON reader produces for a field; dates and datetimes come in as strings."""
    if pa.types.is_timestamp(t) or pa.types.is_date(t) or pa.types.is_string(t):
        return pl.String()
    if pa.types.is_boolean(t):
        return pl.Boolean()
    if pa.types.is_integer(t):
        return pl.Int64()
    if pa.types.is_floating(t):
        return pl.Float64()
    return pl.String()


def records_to_batch(
    records: bytes | list[Any], fields: Sequence[FieldInfo], schema: pa.Schema
) -> pa.RecordBatch:
    """The records (raw JSON array or parsed list) as a batch with exactly ``schema``."""
    if isinstance(records, bytes):
        if records.strip() in (b"[]", b""):
            return pa.RecordBatch.from_pylist([], schema=schema)
        try:
            df = pl.read_json(io.BytesIO(records), schema={f.name: _loose_type(f.arrow_type) for f in fields})
            columns = [df.get_column(f.name).to_arrow() for f in fields]
        except Exception:  # noqa: BLE001 - odd shapes (nested values, mixed types) take the slow path
            return records_to_batch(orjson.loads(records), fields, schema)
    else:
        columns = [
            pa.array([r.get(f.name) for r in records], type=_arrow_loose(f.arrow_type)) for f in fields
        ]
    return pa.RecordBatch.from_arrays(
        [_finish(c, f) for c, f in zip(columns, fields, strict=True)], schema=schema
    )


@dataclass(frozen=True)
class FrameSpec:
    """What :func:`records_to_frame` needs per page, built once per read (not per page)."""

    fields: tuple[FieldInfo, ...]
    schema: pa.Schema
    #: The types the JSON reader is asked for (dates and datetimes as strings).
    loose: pl.Schema
    #: Fields whose loose type is not their final type: finished column-wise like a batch's.
    finish: tuple[FieldInfo, ...]

    @classmethod
    def of(cls, fields: Sequence[FieldInfo], schema: pa.Schema) -> "FrameSpec":
        empty = pl.from_arrow(schema.empty_table())
        assert isinstance(empty, pl.DataFrame)
        final = empty.schema
        loose = pl.Schema({f.name: _loose_type(f.arrow_type) for f in fields})
        finish = tuple(f for f in fields if loose[f.name] != final[f.name])
        return cls(tuple(fields), schema, loose, finish)


def records_to_frame(records: bytes | list[Any], spec: FrameSpec) -> pl.DataFrame:
    """The records as a polars frame equal to ``pl.from_arrow(records_to_batch(...))``, without
    the per-column Arrow round trip: only date and datetime columns go through Arrow."""
    if isinstance(records, bytes) and records.strip() not in (b"[]", b""):
        try:
            df = pl.read_json(io.BytesIO(records), schema=spec.loose)
        except Exception:  # noqa: BLE001 - odd shapes take the slow path, as in records_to_batch
            df = None
        if df is not None:
            if spec.finish:
                df = df.with_columns(
                    pl.Series(f.name, _finish(df.get_column(f.name).to_arrow(), f)) for f in spec.finish
                )
            return df
    out = pl.from_arrow(records_to_batch(records, spec.fields, spec.schema))
    assert isinstance(out, pl.DataFrame)
    return out


def _arrow_loose(t: pa.DataType) -> pa.DataType:
    return pa.string() if pa.types.is_timestamp(t) or pa.types.is_date(t) else t


def _finish(column: pa.Array | pa.ChunkedArray, field: FieldInfo) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    target = field.arrow_type
    if pa.types.is_timestamp(target):
        return _parse_datetimes(column.cast(pa.string()), target)
    if column.type != target:
        return column.cast(target)
    return column


def _parse_datetimes(column: pa.Array, target: pa.DataType) -> pa.Array:
    """Salesforce datetimes → timestamp UTC. Fast path: every value is ``...SSS+0000``."""
    valid = column.drop_null()
    if len(valid) == 0:
        return pa.nulls(len(column), type=target)
    lengths = pc.utf8_length(valid)
    if pc.all(pc.equal(lengths, _SF_DATETIME_LEN)).as_py() and pc.all(pc.ends_with(valid, "+0000")).as_py():
        naive = pc.cast(pc.utf8_slice_codeunits(column, 0, 23), pa.timestamp("ms"))
        return naive.cast(pa.timestamp(target.unit)).cast(target)
    # Other offsets or precisions: let polars parse with the zone, then normalise to UTC.
    series = pl.from_arrow(column)
    assert isinstance(series, pl.Series)
    parsed = series.str.to_datetime(time_unit="us", time_zone="UTC", strict=False)
    return parsed.to_arrow().cast(target)


def parse_page(body: bytes, fields: Sequence[FieldInfo], schema: pa.Schema) -> tuple[Page, pa.RecordBatch]:
    page = split_page(body)
    return page, records_to_batch(page.records, fields, schema)
