"""Data-type names of AppFlow task properties → polars types, and vectorised conversions.

``DATA_TYPE`` / ``SOURCE_DATA_TYPE`` / ``DESTINATION_DATA_TYPE`` carry the connector's own type names
(botocore appflow ``OperatorPropertiesKeys``; Salesforce names from 003 and the describe API: ``string``,
``id``, ``double``, ``int``, ``boolean``, ``date``, ``datetime``, ``currency``, ``percent``, ``picklist``...).
A value that cannot be converted is a per-record error: :func:`convert` returns the converted
expression and a boolean "failed" expression so the caller can route the record to the errors output.
"""

from datetime import UTC, datetime

import polars as pl

DATETIME = pl.Datetime("us", "UTC")

_STRING_NAMES = frozenset(
    {
        "string", "id", "reference", "picklist", "multipicklist", "textarea", "phone", "email", "url",
        "combobox", "encryptedstring", "address", "anytype", "text", "char", "varchar", "time",
        "base64", "json", "location",
    }
)  # fmt: skip
_INT_NAMES = frozenset({"int", "integer", "long", "bigint", "smallint", "short", "byte"})
_FLOAT_NAMES = frozenset({"double", "currency", "percent", "decimal", "float", "number", "numeric", "real"})
_BOOL_NAMES = frozenset({"boolean", "bool", "checkbox"})
_DATE_NAMES = frozenset({"date"})
_DATETIME_NAMES = frozenset({"datetime", "timestamp", "datetimeoffset", "date-time"})

_TRUE = ("true", "1", "yes", "y", "t")
_FALSE = ("false", "0", "no", "n", "f")


def polars_type(name: str | None) -> pl.DataType | None:
    """The polars type a connector type name converts to; ``None`` for unknown names (no conversion)."""
    if not name:
        return None
    n = name.strip().lower()
    if n in _STRING_NAMES:
        return pl.String()
    if n in _INT_NAMES:
        return pl.Int64()
    if n in _FLOAT_NAMES:
        return pl.Float64()
    if n in _BOOL_NAMES:
        return pl.Boolean()
    if n in _DATE_NAMES:
        return pl.Date()
    if n in _DATETIME_NAMES:
        return DATETIME
    return None


def _is_numeric(dtype: pl.DataType) -> bool:
    return dtype.is_numeric()


def parse_datetime_str(col: pl.Expr) -> pl.Expr:
    """Parse ISO-8601 (with ``Z``, ``+0000``, ``+00:00`` or no offset = UTC), a bare date, or epoch millis."""
    s = col.str.strip_chars()
    return pl.coalesce(
        s.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%z", time_unit="us", time_zone="UTC", strict=False),
        s.str.to_datetime("%Y-%m-%dT%H:%M:%S%z", time_unit="us", time_zone="UTC", strict=False),
        s.str.to_datetime(time_unit="us", time_zone="UTC", strict=False),
        s.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", time_unit="us", strict=False).dt.replace_time_zone("UTC"),
        s.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us", strict=False).dt.replace_time_zone("UTC"),
        s.str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime("us")).dt.replace_time_zone("UTC"),
        pl.from_epoch(
            pl.when(s.str.contains(r"^-?\d{1,15}$")).then(s).cast(pl.Int64, strict=False), time_unit="ms"
        ).dt.replace_time_zone("UTC"),
    )


def _from_string(col: pl.Expr, dst: pl.DataType) -> pl.Expr:
    s = col.str.strip_chars()
    if dst == pl.Int64:
        f = s.cast(pl.Float64, strict=False)
        return pl.when(f == f.round(0)).then(f).cast(pl.Int64, strict=False)
    if dst == pl.Float64:
        return s.str.replace_all(",", "").cast(pl.Float64, strict=False)
    if dst == pl.Boolean:
        low = s.str.to_lowercase()
        return pl.when(low.is_in(_TRUE)).then(True).when(low.is_in(_FALSE)).then(False).otherwise(None)
    if dst == pl.Date:
        return pl.coalesce(s.str.to_date("%Y-%m-%d", strict=False), parse_datetime_str(col).dt.date())
    if dst == DATETIME:
        return parse_datetime_str(col)
    return col.cast(dst, strict=False)


def _to_string(col: pl.Expr, src: pl.DataType) -> pl.Expr:
    if isinstance(src, pl.Datetime):
        c = col if src.time_zone else col.dt.replace_time_zone("UTC")
        return c.dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ")
    if src == pl.Date:
        return col.dt.strftime("%Y-%m-%d")
    if src == pl.Boolean:
        return pl.when(col).then(pl.lit("true")).when(~col).then(pl.lit("false"))
    return col.cast(pl.String, strict=False)


def convert(col: pl.Expr, src: pl.DataType, dst: pl.DataType | None) -> tuple[pl.Expr, pl.Expr | None]:
    """Convert ``col`` of type ``src`` to ``dst``.

    Returns ``(value, failed)`` where ``failed`` is true for rows whose non-null value did not convert,
    or ``None`` when the conversion cannot fail (same type, or anything → string).
    """
    if dst is None or src == dst:
        return col, None
    if dst == pl.String:
        return _to_string(col, src), None
    if src == pl.String:
        out = _from_string(col, dst)
    elif isinstance(src, pl.Datetime) and dst == pl.Date:
        return col.dt.date(), None
    elif src == pl.Date and dst == DATETIME:
        return col.cast(pl.Datetime("us")).dt.replace_time_zone("UTC"), None
    elif isinstance(src, pl.Datetime) and dst == DATETIME:
        c = col if src.time_zone else col.dt.replace_time_zone("UTC")
        return c.dt.convert_time_zone("UTC").dt.cast_time_unit("us"), None
    elif _is_numeric(src) and dst == pl.Int64:
        f = col.cast(pl.Float64)
        out = pl.when(f == f.round(0)).then(f).cast(pl.Int64, strict=False)
    elif src == pl.Boolean and _is_numeric(dst):
        return col.cast(dst), None
    elif _is_numeric(src) and dst == pl.Boolean:
        out = pl.when(col == 1).then(True).when(col == 0).then(False).otherwise(None)
    else:
        out = col.cast(dst, strict=False)
    return out, col.is_not_null() & out.is_null()


def parse_literal(value: str, dtype: pl.DataType) -> object:
    """A task property value (always a string in AppFlow) as a Python value comparable with ``dtype``.

    Datetime and date values may be epoch milliseconds (what the AppFlow console writes) or ISO-8601.
    Raises ``ValueError`` when the value does not fit the type.
    """
    v = value.strip()
    if isinstance(dtype, pl.Datetime) or dtype == pl.Date:
        parsed = pl.select(parse_datetime_str(pl.lit(v, dtype=pl.String))).item()
        if parsed is None:
            raise ValueError(f"not a date/time (epoch millis or ISO-8601): {value!r}")
        assert isinstance(parsed, datetime)
        if dtype == pl.Date:
            return parsed.date()
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is None:
            return parsed.replace(tzinfo=None)
        return parsed.astimezone(UTC)
    if dtype == pl.Boolean:
        low = v.lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
        raise ValueError(f"not a boolean: {value!r}")
    if dtype.is_integer():
        f = float(v)
        return int(f) if f.is_integer() else f
    if dtype.is_numeric():
        return float(v)
    return value


__all__ = ["DATETIME", "convert", "parse_datetime_str", "parse_literal", "polars_type"]
