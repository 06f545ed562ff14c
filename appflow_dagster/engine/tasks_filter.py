"""Filter tasks: the comparison operators as polars predicates, and their push-down ``Condition``.

Seeds: 001:18853-18857 (filters; several criteria of one filter are OR-ed, several filters AND-ed,
"transfer only the records that meet all filter criteria"). Value shapes follow the AppFlow API
model (``VALUE``, ``VALUES``, ``LOWER_BOUND``/``UPPER_BOUND`` for ``BETWEEN``, ``DATA_TYPE``) and the
AWS-published CDK L2 constructs (cdklabs/cdk-appflow ``filters.ts``: ``VALUES`` joined with ``,``,
date/time values as epoch milliseconds).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import orjson
import polars as pl

from appflow_dagster.connectors.base import Condition
from appflow_dagster.engine.types import convert, parse_literal, polars_type

COMPARISON_OPERATORS: frozenset[str] = frozenset(
    {
        "LESS_THAN", "GREATER_THAN", "CONTAINS", "BETWEEN", "LESS_THAN_OR_EQUAL_TO",
        "GREATER_THAN_OR_EQUAL_TO", "EQUAL_TO", "NOT_EQUAL_TO",
    }
)  # fmt: skip


def split_values(raw: str) -> tuple[str, ...]:
    """``VALUES`` as written: a JSON list (``["a","b"]``) or a comma-separated string (``a,b``)."""
    text = raw.strip()
    if text.startswith("["):
        try:
            parsed = orjson.loads(text)
        except orjson.JSONDecodeError:
            parsed = None
        if isinstance(parsed, list):
            return tuple(str(v) for v in parsed)
    return tuple(v.strip() for v in text.split(","))


@dataclass(frozen=True)
class FilterSpec:
    """One comparison Filter task, compiled."""

    task_index: int
    field: str
    operator: str
    values: tuple[str, ...]
    data_type: str | None

    @property
    def condition(self) -> Condition:
        return Condition(
            field=self.field, operator=self.operator, values=self.values, data_type=self.data_type
        )


def filter_spec(index: int, field: str, operator: str, props: dict[str, str], path: str) -> FilterSpec:
    """Validate a Filter task's properties; raise ``ValueError`` naming the task property path."""
    if operator == "BETWEEN":
        if "LOWER_BOUND" not in props or "UPPER_BOUND" not in props:
            raise ValueError(f"{path}.taskProperties: BETWEEN needs LOWER_BOUND and UPPER_BOUND")
        values: tuple[str, ...] = (props["LOWER_BOUND"], props["UPPER_BOUND"])
    elif "VALUES" in props:
        values = split_values(props["VALUES"])
    elif "VALUE" in props:
        values = (props["VALUE"],)
    else:
        raise ValueError(f"{path}.taskProperties: {operator} needs VALUE or VALUES")
    return FilterSpec(index, field, operator, values, props.get("DATA_TYPE"))


@lru_cache(maxsize=256)
def _literals(spec: FilterSpec, dtype: pl.DataType) -> tuple[object, ...]:
    """Parsed once per (filter, column type), not per batch."""
    target = dtype
    if dtype == pl.String and spec.operator != "CONTAINS":
        # A string column compared with a numeric/date DATA_TYPE compares as that type.
        declared = polars_type(spec.data_type)
        target = declared if declared is not None else dtype
    try:
        return tuple(parse_literal(v, target) for v in spec.values)
    except ValueError as exc:
        raise ValueError(f"tasks[{spec.task_index}] Filter on {spec.field!r}: {exc}") from None


def predicate(spec: FilterSpec, schema: pl.Schema) -> pl.Expr:
    """The keep-predicate of one Filter task over a batch with ``schema``.

    Null values fail every comparison except ``NOT_EQUAL_TO``, which keeps them (as SOQL's ``!=``
    does, so a pushed-down and an in-engine filter select the same records). For the same reason
    ``EQUAL_TO``, ``NOT_EQUAL_TO`` and ``CONTAINS`` on text ignore case, like SOQL's ``=``, ``!=``
    and ``LIKE``.
    """
    if spec.field not in schema:
        raise ValueError(f"tasks[{spec.task_index}] Filter: source field {spec.field!r} is not in the batch")
    dtype = schema[spec.field]
    col = pl.col(spec.field)
    op = spec.operator
    if op == "CONTAINS":
        text = (col if dtype == pl.String else col.cast(pl.String)).str.to_lowercase()
        pred = pl.any_horizontal([text.str.contains(v.lower(), literal=True) for v in spec.values])
        return pred.fill_null(False)
    lits = _literals(spec, dtype)
    if dtype == pl.String and lits and not isinstance(lits[0], str):
        declared = polars_type(spec.data_type)
        if declared is not None:
            col = convert(col, dtype, declared)[0]
    elif dtype == pl.String and op in ("EQUAL_TO", "NOT_EQUAL_TO"):
        # Text equality ignores case, as SOQL's = and != do: the same flow selects the same
        # records whether its filter is pushed down to the source or evaluated here.
        col = col.str.to_lowercase()
        lits = tuple(v.lower() if isinstance(v, str) else v for v in lits)
    if op == "EQUAL_TO":
        pred = col.is_in(lits)
    elif op == "NOT_EQUAL_TO":
        return (~col.is_in(lits)).fill_null(True)
    elif op == "BETWEEN":
        pred = (col >= pl.lit(lits[0])) & (col <= pl.lit(lits[1]))
    else:
        cmp = {
            "LESS_THAN": lambda v: col < pl.lit(v),
            "LESS_THAN_OR_EQUAL_TO": lambda v: col <= pl.lit(v),
            "GREATER_THAN": lambda v: col > pl.lit(v),
            "GREATER_THAN_OR_EQUAL_TO": lambda v: col >= pl.lit(v),
        }[op]
        pred = pl.any_horizontal([cmp(v) for v in lits])
    return pred.fill_null(False)


def combined(specs: Sequence[FilterSpec], schema: pl.Schema) -> pl.Expr | None:
    """All filters AND-ed (001:18857 "transfer only the records that meet all filter criteria")."""
    preds = [predicate(s, schema) for s in specs]
    return pl.all_horizontal(preds) if preds else None
