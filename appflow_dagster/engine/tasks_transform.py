"""Mask, Truncate, Merge and Arithmetic tasks as polars expressions.

Seeds: 001:18736 ("concatenate multiple fields in a source object to a single field in the
destination ... mask the values of sensitive fields so that the destination field contains only an
asterisk (*) ... truncate fields to a fixed length"), 001:18826-18827 ("Add formula", "Modify values").
Task shapes follow the AWS-published CDK L2 constructs (cdklabs/cdk-appflow ``transforms.ts``,
``mappings.ts``): Mask and Truncate name one source field and modify it in place; Merge and
Arithmetic write a (possibly intermediate) field named by ``destinationField`` that a later Map
task may take as its source field.
"""

import re
from collections.abc import Sequence

import orjson
import polars as pl

MASK_OPERATORS: frozenset[str] = frozenset({"MASK_ALL", "MASK_FIRST_N", "MASK_LAST_N"})
MATH_OPERATORS: frozenset[str] = frozenset({"ADDITION", "SUBTRACTION", "MULTIPLICATION", "DIVISION"})

_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


def positive_int(props: dict[str, str], key: str, path: str, *, default: int | None = None) -> int:
    """An integer property ≥ 1, with an actionable error naming the property path."""
    raw = props.get(key)
    if raw is None:
        if default is not None:
            return default
        raise ValueError(f"{path}.taskProperties.{key}: required")
    try:
        value = int(raw.strip())
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{path}.taskProperties.{key}: must be an integer ≥ 1, got {raw!r}")
    return value


def _text(col: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    return col if dtype == pl.String else col.cast(pl.String)


def mask_expr(field: str, dtype: pl.DataType, operator: str, mask_char: str, n: int) -> pl.Expr:
    """Replace characters with ``mask_char``: all of them, the first ``n`` or the last ``n``.

    The value keeps its length (001:18736: the field "contains only an asterisk (*)"). Nulls stay null.
    """
    s = _text(pl.col(field), dtype)
    if operator == "MASK_ALL":
        return s.str.replace_all(r"(?s).", mask_char.replace("$", "$$"))
    length = s.str.len_chars()
    k = pl.min_horizontal(length, pl.lit(n, dtype=pl.UInt32))
    masked = pl.lit(mask_char * n).str.slice(0, k)
    if operator == "MASK_FIRST_N":
        return pl.concat_str(masked, s.str.slice(k))
    return pl.concat_str(s.str.slice(0, length - k), masked)


def truncate_expr(field: str, dtype: pl.DataType, n: int) -> pl.Expr:
    """Keep the first ``n`` characters (non-string values are rendered as strings first)."""
    return _text(pl.col(field), dtype).str.slice(0, n)


def concat_expr(fields: Sequence[str], schema: pl.Schema, fmt: str | None) -> pl.Expr:
    """Merge ``fields`` into one string.

    ``CONCAT_FORMAT`` with ``${Field}`` placeholders is a template; without placeholders it is the
    separator written between the fields in ``sourceFields`` order; absent, fields are joined with
    no separator. A null field contributes an empty string; all fields null gives null.
    """
    parts = {f: _text(pl.col(f), schema[f]) for f in fields}
    any_value = pl.any_horizontal([p.is_not_null() for p in parts.values()])
    if fmt and _PLACEHOLDER.search(fmt):
        pieces: list[pl.Expr] = []
        pos = 0
        for m in _PLACEHOLDER.finditer(fmt):
            if m.start() > pos:
                pieces.append(pl.lit(fmt[pos : m.start()]))
            name = m.group(1)
            if name not in parts:
                raise ValueError(f"CONCAT_FORMAT names {name!r}, which is not one of the task's sourceFields")
            pieces.append(parts[name].fill_null(""))
            pos = m.end()
        if pos < len(fmt):
            pieces.append(pl.lit(fmt[pos:]))
        out = pl.concat_str(pieces)
    else:
        out = pl.concat_str([p.fill_null("") for p in parts.values()], separator=fmt or "")
    return pl.when(any_value).then(out)


def operand_order(fields: Sequence[str], props: dict[str, str], path: str) -> tuple[str, str]:
    """``MATH_OPERATION_FIELDS_ORDER`` (``"a,b"`` as the CDK writes it, or a JSON list) or sourceFields."""
    raw = props.get("MATH_OPERATION_FIELDS_ORDER")
    if raw is None:
        order = list(fields)
    elif raw.strip().startswith("["):
        order = [str(v) for v in orjson.loads(raw)]
    else:
        order = [v.strip() for v in raw.split(",")]
    if len(order) != 2:
        raise ValueError(f"{path}: Arithmetic needs exactly two operand fields, got {order}")
    unknown = [f for f in order if f not in fields]
    if unknown:
        raise ValueError(f"{path}.taskProperties.MATH_OPERATION_FIELDS_ORDER: {unknown} not in sourceFields")
    return order[0], order[1]


def arithmetic_expr(operator: str, left: str, right: str, schema: pl.Schema) -> tuple[pl.Expr, pl.Expr]:
    """``left <op> right`` as Float64, and a "failed" expression (non-numeric operand text).

    Division by zero gives null, not an error: the record still transfers.
    """

    def num(name: str) -> pl.Expr:
        dtype = schema[name]
        c = pl.col(name)
        return (
            c.cast(pl.Float64)
            if dtype.is_numeric()
            else _text(c, dtype).str.strip_chars().cast(pl.Float64, strict=False)
        )

    a, b = num(left), num(right)
    if operator == "ADDITION":
        out = a + b
    elif operator == "SUBTRACTION":
        out = a - b
    elif operator == "MULTIPLICATION":
        out = a * b
    else:
        out = pl.when(b != 0).then(a / b)
    failed = (pl.col(left).is_not_null() & a.is_null()) | (pl.col(right).is_not_null() & b.is_null())
    return out, failed
