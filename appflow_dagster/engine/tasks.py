"""The task pipeline of the transfer engine: AppFlow ``tasks`` applied batch by batch with polars.

Order of application (docs/tasks.md explains each choice):

1. ``Filter`` comparisons on source values (those the source cannot evaluate), AND-ed (001:18857);
2. ``Validate`` on source values: ``DropRecord`` drops the record, ``TerminateFlow`` raises
   :class:`FlowTerminated` (001:1073, 001:2108);
3. ``Mask`` / ``Truncate`` modify their source field (001:18736, 001:18827);
4. ``Merge`` / ``Arithmetic`` compute their ``destinationField`` (001:18826 "Add formula");
5. ``Map`` / ``Map_all`` / ``Passthrough`` select and rename what reaches the destination, with type
   conversion; only mapped fields (and derived fields no Map consumes) reach it.

A value that fails a conversion (or an Arithmetic operand that is not a number) makes its record a
per-record error: it leaves the output and is returned in :attr:`BatchResult.failed` with an ``error``
column. No dagster import and no I/O here.
"""

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import orjson
import polars as pl
import pyarrow as pa

from appflow_dagster.connectors.base import Condition, ObjectInfo
from appflow_dagster.engine import tasks_filter, validate
from appflow_dagster.engine.tasks_compile import Compiled, MapRule, TaskError, TransformRule, compile_all
from appflow_dagster.engine.tasks_transform import arithmetic_expr, concat_expr, mask_expr, truncate_expr
from appflow_dagster.engine.types import convert, polars_type
from appflow_dagster.engine.validate import FlowTerminated, ValidationSpec, ValidationStat
from appflow_dagster.spec.model import Task

__all__ = [
    "BatchResult",
    "FlowTerminated",
    "Pipeline",
    "TaskError",
    "ValidationSpec",
    "ValidationStat",
    "compile_tasks",
]

_ERR = "__appflow_error"


@dataclass(frozen=True)
class BatchResult:
    """One batch after the pipeline."""

    df: pl.DataFrame
    records_in: int
    records_dropped_by_filter: int
    records_dropped_by_validation: int
    validations: list[ValidationStat]
    #: Records that failed a conversion: the source fields (after Mask/Truncate) plus ``error``.
    failed: pl.DataFrame | None = None

    @property
    def records_failed(self) -> int:
        return 0 if self.failed is None else self.failed.height


class Pipeline:
    """Compiled tasks of one flow. Build with :func:`compile_tasks`; reuse for every batch."""

    def __init__(self, compiled: Compiled, source: ObjectInfo | None):
        self._c = compiled
        self._source = source
        consumed = {m.source for m in compiled.maps if m.source is not None}
        #: Derived fields (Merge/Arithmetic/...) no Map takes as its source reach the destination as they are.
        self._derived_outputs = [r for r in compiled.derived if r.destination not in consumed]

    # -- what the rest of the engine asks before reading ------------------------------------------

    @property
    def source_fields(self) -> list[str] | None:
        """Fields to request from the source; ``None`` means all (Map_all / whole-record Passthrough)."""
        c = self._c
        derived = {r.destination for r in c.derived}
        needed = [f for f in c.referenced if f not in derived]
        if c.projection is None and any(m.source is None for m in c.maps):
            return None
        out = list(c.projection or [])
        out += [f for f in needed if f not in out]
        return out

    @property
    def pushdown(self) -> list[Condition]:
        """Filters the source evaluates; :meth:`apply` does not re-apply them."""
        return list(self._c.pushdown)

    @property
    def partition_keys(self) -> list[str]:
        """Destination fields of the Partition task, in folder order (001:19774)."""
        return list(self._c.partition_keys)

    @property
    def validations(self) -> list[ValidationSpec]:
        """One per Validate task, in task order."""
        return list(self._c.validations)

    def signature(self) -> str:
        """A stable hash of what shapes the output (mappings, types, derived fields, partition keys)."""
        c = self._c
        doc = {
            "maps": [[m.kind, m.source, m.destination, m.source_type, m.destination_type, list(m.exclude),
                      m.include_new_fields] for m in c.maps],
            "derived": [[r.kind, list(r.fields), r.destination, r.operator, r.concat_format] for r in c.derived],
            "partition_keys": c.partition_keys,
        }  # fmt: skip
        return hashlib.sha256(orjson.dumps(doc)).hexdigest()[:16]

    def output_schema(self, input_schema: pa.Schema | None = None) -> pa.Schema:
        """The destination schema for a batch of ``input_schema`` (default: the source's describe)."""
        schema = input_schema if input_schema is not None else (self._source.schema if self._source else None)
        if schema is None:
            raise ValueError("output_schema needs an input schema or the source's describe")
        wanted = self.source_fields
        if input_schema is None and wanted is not None:  # the source returns only the requested fields
            schema = pa.schema([f for f in schema if f.name in wanted])
        empty = pl.from_arrow(schema.empty_table())
        assert isinstance(empty, pl.DataFrame)
        return self.apply(empty).df.to_arrow().schema

    # -- per batch ---------------------------------------------------------------------------------

    def apply(self, df: pl.DataFrame) -> BatchResult:
        """Run the tasks over one batch. Raises :class:`FlowTerminated` for a failed TerminateFlow check."""
        c = self._c
        records_in = df.height
        input_cols = list(df.columns)

        keep = tasks_filter.combined(c.filters, df.schema)
        if keep is not None:
            df = df.filter(keep)
        dropped_filter = records_in - df.height

        stats, df, dropped_validation = self._validate(df)

        for rule in c.in_place:
            df = df.with_columns(self._transform(rule, df.schema)[0].alias(rule.destination))
        errors: list[tuple[pl.Expr, str]] = []
        for rule in c.derived:
            value, failed = self._transform(rule, df.schema)
            if failed is not None:  # evaluated before the column is replaced
                df = df.with_columns(failed.alias(f"{_ERR}{len(errors)}"))
                errors.append(
                    (
                        pl.col(f"{_ERR}{len(errors)}"),
                        f"tasks[{rule.task_index}] {rule.kind}: operand is not a number",
                    )
                )
            df = df.with_columns(value.alias(rule.destination))

        exprs, conv_errors = self._outputs(df.schema, input_cols)
        errors += conv_errors
        if not errors:
            return BatchResult(df.select(exprs), records_in, dropped_filter, dropped_validation, stats)
        df = df.with_columns(
            pl.concat_str(
                [pl.when(f).then(pl.lit(m)) for f, m in errors], separator="; ", ignore_nulls=True
            ).alias(_ERR),
            pl.any_horizontal([f.fill_null(False) for f, _ in errors]).alias(f"{_ERR}_bad"),
        )
        bad = df.get_column(f"{_ERR}_bad")
        if not bad.any():
            return BatchResult(df.select(exprs), records_in, dropped_filter, dropped_validation, stats)
        failed_df = df.filter(bad).select(
            [*(c for c in input_cols if c in df.columns), pl.col(_ERR).alias("error")]
        )
        out = df.filter(~bad).select(exprs)
        return BatchResult(out, records_in, dropped_filter, dropped_validation, stats, failed_df)

    def _validate(self, df: pl.DataFrame) -> tuple[list[ValidationStat], pl.DataFrame, int]:
        specs = self._c.validations
        if not specs:
            return [], df, 0
        for s in specs:
            if s.field not in df.schema:
                raise ValueError(
                    f"tasks[{s.task_index}] Validate: source field {s.field!r} is not in the batch"
                )
        flags = df.select(
            [validate.failed_expr(s, df.schema[s.field]).alias(f"v{n}") for n, s in enumerate(specs)]
        )
        counts = flags.sum().row(0) if df.height else tuple(0 for _ in specs)
        stats = [
            ValidationStat(s.task_index, s.field, s.operator, s.action, df.height, int(n or 0),
                           int(n or 0) if s.action == "DropRecord" else 0)
            for s, n in zip(specs, counts, strict=True)
        ]  # fmt: skip
        for st in stats:
            if st.action == "TerminateFlow" and st.failed:
                raise FlowTerminated(st)
        drop_cols = [f"v{n}" for n, s in enumerate(specs) if s.action == "DropRecord"]
        if not drop_cols or not any(st.dropped for st in stats):
            return stats, df, 0
        bad = flags.select(pl.any_horizontal(drop_cols)).to_series()
        return stats, df.filter(~bad), int(bad.sum())

    def _transform(self, rule: TransformRule, schema: pl.Schema) -> tuple[pl.Expr, pl.Expr | None]:
        for f in rule.fields:
            if f not in schema:
                raise ValueError(
                    f"tasks[{rule.task_index}] {rule.kind}: source field {f!r} is not in the batch"
                )
        f0 = rule.fields[0]
        if rule.kind == "Mask":
            return mask_expr(f0, schema[f0], rule.operator, rule.mask_value, rule.length), None
        if rule.kind == "Truncate":
            return truncate_expr(f0, schema[f0], rule.length), None
        if rule.kind == "Merge":
            try:
                return concat_expr(rule.fields, schema, rule.concat_format), None
            except ValueError as exc:
                raise TaskError(f"tasks[{rule.task_index}].taskProperties.CONCAT_FORMAT: {exc}") from None
        return arithmetic_expr(rule.operator, rule.fields[0], rule.fields[1], schema)

    def _expand(self, m: MapRule, schema: pl.Schema, input_cols: list[str]) -> list[MapRule]:
        if m.source is not None:
            return [m]
        cols = input_cols
        if m.kind == "Map_all" and not m.include_new_fields and self._source is not None:
            known = {f.name for f in self._source.fields}
            cols = [c for c in cols if c in known]
        return [MapRule(m.task_index, m.kind, c, c) for c in cols if c not in m.exclude]

    def _outputs(
        self, schema: pl.Schema, input_cols: list[str]
    ) -> tuple[list[pl.Expr], list[tuple[pl.Expr, str]]]:
        rules: dict[str, MapRule] = {}
        for m in self._c.maps:
            for r in self._expand(m, schema, input_cols):
                assert r.destination is not None
                rules[r.destination] = r  # a later task overrides an earlier one, keeping its position
        exprs: list[pl.Expr] = []
        errors: list[tuple[pl.Expr, str]] = []
        for dest, r in rules.items():
            assert r.source is not None
            if r.source not in schema:
                raise ValueError(
                    f"tasks[{r.task_index}] {r.kind}: source field {r.source!r} is not in the batch"
                )
            value: pl.Expr = pl.col(r.source)
            if r.kind == "Map":
                dtype = schema[r.source]
                for name in (r.source_type, r.destination_type):
                    target = polars_type(name)
                    value, failed = convert(value, dtype, target)
                    if failed is not None:
                        errors.append(
                            (
                                failed,
                                f"tasks[{r.task_index}] Map {r.source!r} -> {dest!r}: value is not a valid {name}",
                            )
                        )
                    dtype = target or dtype  # fmt: skip
            exprs.append(value.alias(dest))
        for d in self._derived_outputs:
            if d.destination not in rules:
                exprs.append(pl.col(d.destination))
        return exprs, errors


def compile_tasks(
    tasks: Sequence[Task],
    source: ObjectInfo | None,
    can_push_down: Callable[[Condition], bool] = lambda c: False,
) -> Pipeline:
    """Compile a flow's tasks. Raises :class:`TaskError` (a ``ValueError``) naming the task path."""
    return Pipeline(compile_all(tasks, source, can_push_down), source)
