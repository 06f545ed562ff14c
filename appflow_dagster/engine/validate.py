"""Validate tasks: which records are bad, and what to do about them.

Seeds: 001:1066-1073 (console: field, condition "Values missing or null", action "Ignore record"),
001:18828 and 2108 ("choose the condition that indicates bad data and what action Amazon AppFlow
should take when a field in a record is bad"). Operators from the AppFlow API model (``Operator``:
``VALIDATE_NON_NULL``, ``VALIDATE_NON_ZERO``, ``VALIDATE_NON_NEGATIVE``, ``VALIDATE_NUMERIC``);
``VALIDATION_ACTION`` values as the console and the AWS CDK L2 constructs write them (``DropRecord``
= "Ignore record"; ``TerminateFlow`` = "Terminate flow"; cdklabs/cdk-appflow writes ``DropDataset``
for terminate, accepted as a synonym).
"""

from dataclasses import dataclass

import polars as pl

VALIDATE_OPERATORS: frozenset[str] = frozenset(
    {"VALIDATE_NON_NULL", "VALIDATE_NON_ZERO", "VALIDATE_NON_NEGATIVE", "VALIDATE_NUMERIC"}
)
#: VALIDATION_ACTION spellings → the canonical action.
ACTIONS: dict[str, str] = {
    "DropRecord": "DropRecord",
    "IgnoreRecord": "DropRecord",
    "TerminateFlow": "TerminateFlow",
    "DropDataset": "TerminateFlow",
}

_NUMERIC_RE = r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$"


@dataclass(frozen=True)
class ValidationSpec:
    """One Validate task: an asset check is declared for each."""

    task_index: int
    field: str
    operator: str
    #: ``DropRecord`` or ``TerminateFlow``.
    action: str


@dataclass(frozen=True)
class ValidationStat:
    """What one Validate task saw in one batch (sum them over batches for the asset check)."""

    task_index: int
    field: str
    operator: str
    action: str
    checked: int
    failed: int
    dropped: int


class FlowTerminated(Exception):
    """A ``TerminateFlow`` validation failed. The message never contains record values."""

    def __init__(self, stat: ValidationStat):
        self.stat = stat
        super().__init__(
            f"tasks[{stat.task_index}] Validate {stat.operator} on field {stat.field!r}: "
            f"{stat.failed} of {stat.checked} record(s) failed; VALIDATION_ACTION=TerminateFlow stops the flow"
        )


def validation_spec(
    index: int, field: str, operator: str, props: dict[str, str], path: str
) -> ValidationSpec:
    """Compile a Validate task; raise ``ValueError`` naming the path on a bad action."""
    raw = props.get("VALIDATION_ACTION", "DropRecord")
    action = ACTIONS.get(raw)
    if action is None:
        raise ValueError(f"{path}.taskProperties.VALIDATION_ACTION: {raw!r} is not one of {sorted(ACTIONS)}")
    return ValidationSpec(index, field, operator, action)


def failed_expr(spec: ValidationSpec, dtype: pl.DataType) -> pl.Expr:
    """True where the record is bad.

    Nulls are bad only for ``VALIDATE_NON_NULL`` (blank strings count as missing, as the console's
    "Values missing or null" says); the other checks pass a null, which is not zero, not negative
    and not a malformed number.
    """
    col = pl.col(spec.field)
    op = spec.operator
    if op == "VALIDATE_NON_NULL":
        if dtype == pl.String:
            return col.is_null() | (col.str.strip_chars() == "")
        return col.is_null()
    if op == "VALIDATE_NUMERIC":
        if dtype.is_numeric():
            return col.is_nan().fill_null(False) if dtype.is_float() else pl.lit(False)
        return (~col.cast(pl.String).str.contains(_NUMERIC_RE)).fill_null(False)
    num = col if dtype.is_numeric() else col.cast(pl.String).str.strip_chars().cast(pl.Float64, strict=False)
    if op == "VALIDATE_NON_ZERO":
        return (num == 0).fill_null(False)
    if op == "VALIDATE_NON_NEGATIVE":
        return (num < 0).fill_null(False)
    raise ValueError(f"tasks[{spec.task_index}]: {op} is not a validation operator")
