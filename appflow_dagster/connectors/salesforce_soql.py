"""SOQL building for the Salesforce source: field lists, the pull window and pushed-down filters.

Pure functions over :class:`~appflow_dagster.connectors.base.ObjectInfo`; no I/O. Every literal is
formatted per the field's Salesforce type, so a filter value can never break out of its literal.
"""

import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from appflow_dagster.connectors.base import Condition, ConnectorError, FieldInfo, ObjectInfo, Window

__all__ = [
    "COMPOUND_TYPES",
    "can_push_down",
    "condition_clause",
    "format_literal",
    "soql_datetime",
    "soql_string",
    "build_soql",
]

#: Types whose values are quoted strings in SOQL.
STRING_TYPES = frozenset(
    {
        "id",
        "string",
        "textarea",
        "picklist",
        "multipicklist",
        "email",
        "phone",
        "url",
        "reference",
        "combobox",
        "encryptedstring",
    }
)
NUMBER_TYPES = frozenset({"int", "double", "currency", "percent", "long"})
#: Compound fields are left out of SOQL field lists, as AppFlow's Bulk API 2.0 path does (003:208);
#: their components (``BillingStreet``, ``BillingCity``, ...) are ordinary fields and are read.
COMPOUND_TYPES = frozenset({"address", "location"})

_ORDERED_OPS = {
    "LESS_THAN": "<",
    "LESS_THAN_OR_EQUAL_TO": "<=",
    "GREATER_THAN": ">",
    "GREATER_THAN_OR_EQUAL_TO": ">=",
}
_SUPPORTED_OPS = frozenset({"EQUAL_TO", "NOT_EQUAL_TO", "BETWEEN", "CONTAINS", *_ORDERED_OPS})
_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_EPOCH_RE = re.compile(r"^-?\d+$")
_STRING_ESCAPES = {
    "\\": "\\\\",
    "'": "\\'",
    '"': '\\"',
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}
_LIKE_ESCAPES = {**_STRING_ESCAPES, "%": "\\%", "_": "\\_"}


def check_name(name: str) -> str:
    """An object or field API name, or ConnectorError: names are interpolated into SOQL as is."""
    if not _NAME_RE.match(name):
        raise ConnectorError(f"invalid Salesforce API name {name!r}", code="INVALID_FIELD")
    return name


def soql_string(value: str, *, like: bool = False) -> str:
    """A quoted SOQL string literal; ``like`` also escapes the ``%``/``_`` wildcards."""
    table = _LIKE_ESCAPES if like else _STRING_ESCAPES
    return "'" + "".join(table.get(ch, ch) for ch in value) + "'"


def parse_datetime(value: str | datetime) -> datetime:
    """An AppFlow filter datetime: epoch milliseconds (as AppFlow sends them) or ISO 8601 → aware UTC."""
    if isinstance(value, datetime):
        dt = value
    else:
        text = value.strip()
        if _EPOCH_RE.match(text):
            return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=int(text))
        try:
            dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ConnectorError(f"not a datetime: {value!r}", code="INVALID_FILTER_VALUE") from None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def soql_datetime(value: str | datetime) -> str:
    """A SOQL datetime literal in UTC, ``2024-01-01T00:00:00Z`` (milliseconds only when non-zero)."""
    dt = parse_datetime(value)
    text = dt.strftime("%Y-%m-%dT%H:%M:%S")
    if dt.microsecond:
        text += f".{dt.microsecond // 1000:03d}"
    return text + "Z"


def soql_date(value: str | date) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).date().isoformat() if value.tzinfo else value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = value.strip()
    if _EPOCH_RE.match(text):
        return parse_datetime(text).date().isoformat()
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        raise ConnectorError(f"not a date: {value!r}", code="INVALID_FILTER_VALUE") from None


def format_literal(field: FieldInfo, value: str, *, like: bool = False) -> str:
    """``value`` as a SOQL literal for ``field``'s type."""
    t = field.source_type
    if t in STRING_TYPES:
        return soql_string(value, like=like)
    if t in NUMBER_TYPES:
        text = value.strip()
        try:
            number = int(text) if t in ("int", "long") else float(text)
        except ValueError:
            raise ConnectorError(
                f"{field.name}: not a number: {value!r}", code="INVALID_FILTER_VALUE"
            ) from None
        if isinstance(number, float) and (number != number or number in (float("inf"), float("-inf"))):
            raise ConnectorError(f"{field.name}: not a finite number", code="INVALID_FILTER_VALUE")
        return str(number) if isinstance(number, int) else repr(number)
    if t == "boolean":
        text = value.strip().lower()
        if text not in ("true", "false"):
            raise ConnectorError(f"{field.name}: not a boolean: {value!r}", code="INVALID_FILTER_VALUE")
        return text
    if t == "date":
        return soql_date(value)
    if t == "datetime":
        return soql_datetime(value)
    raise ConnectorError(f"{field.name}: cannot filter a {t} field in SOQL", code="INVALID_FILTER_VALUE")


def can_push_down(info: ObjectInfo, condition: Condition) -> bool:
    """True when ``condition`` can be expressed in SOQL on a filterable field of ``info``."""
    field = info.field(condition.field)
    if field is None or not field.filterable or condition.operator not in _SUPPORTED_OPS:
        return False
    t = field.source_type
    if t in COMPOUND_TYPES or t == "time" or not condition.values:
        return False
    if condition.operator == "CONTAINS":
        # LIKE applies to string fields only; multi-select picklists take INCLUDES, not LIKE.
        return t in STRING_TYPES and t != "multipicklist"
    if condition.operator == "BETWEEN" and (len(condition.values) != 2 or t == "boolean"):
        return False
    if condition.operator in _ORDERED_OPS and t in ("boolean", "multipicklist"):
        return False
    try:  # a value that does not fit the type is left to the engine, which reports it
        for v in condition.values:
            format_literal(field, v)
    except ConnectorError:
        return False
    return True


def condition_clause(info: ObjectInfo, condition: Condition) -> str:
    """The SOQL expression for one pushed-down condition (call :func:`can_push_down` first)."""
    if not can_push_down(info, condition):
        raise ConnectorError(
            f"cannot push {condition.operator} on {info.name}.{condition.field} down to SOQL",
            code="INVALID_FILTER",
        )
    field = info.field(condition.field)
    assert field is not None
    name = check_name(field.name)
    op, values = condition.operator, condition.values
    if op == "CONTAINS":  # several values: any of them (as the engine's Filter reads VALUES)
        likes = [f"{name} LIKE '%" + format_literal(field, v, like=True)[1:-1] + "%'" for v in values]
        return likes[0] if len(likes) == 1 else "(" + " OR ".join(likes) + ")"
    if op == "BETWEEN":  # inclusive bounds, as the engine's Filter
        lo, hi = (format_literal(field, v) for v in values)
        return f"({name} >= {lo} AND {name} <= {hi})"
    if op in _ORDERED_OPS:
        parts = [f"{name} {_ORDERED_OPS[op]} {format_literal(field, v)}" for v in values]
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"
    literals = [format_literal(field, v) for v in values]
    if len(literals) == 1:
        return f"{name} {'=' if op == 'EQUAL_TO' else '!='} {literals[0]}"
    return f"{name} {'IN' if op == 'EQUAL_TO' else 'NOT IN'} ({', '.join(literals)})"


def select_fields(info: ObjectInfo, fields: Sequence[str] | None) -> list[FieldInfo]:
    """The fields to read: all non-compound fields by default, else the named ones, in that order."""
    if fields is None:
        return [f for f in info.fields if f.source_type not in COMPOUND_TYPES]
    chosen: list[FieldInfo] = []
    for name in fields:
        f = info.field(name)
        if f is None:
            raise ConnectorError(f"{info.name} has no field {name!r}", code="INVALID_FIELD")
        if f.source_type in COMPOUND_TYPES:
            raise ConnectorError(
                f"{info.name}.{name} is a compound ({f.source_type}) field; select its components instead",
                code="INVALID_FIELD",
            )
        chosen.append(f)
    return chosen


def window_clause(info: ObjectInfo, window: Window, window_field: str) -> str:
    """``Field >= start AND Field < end`` in UTC literals (half-open, as partitions are)."""
    field = info.field(window_field)
    if field is None:
        raise ConnectorError(f"{info.name} has no field {window_field!r}", code="INVALID_FIELD")
    name = check_name(field.name)
    if field.source_type == "date":
        lo, hi = soql_date(window.start), soql_date(window.end)
    elif field.source_type == "datetime":
        lo, hi = soql_datetime(window.start), soql_datetime(window.end)
    else:
        raise ConnectorError(
            f"{info.name}.{window_field} is a {field.source_type} field, not a date or datetime",
            code="INVALID_FIELD",
        )
    return f"{name} >= {lo} AND {name} < {hi}"


def build_soql(
    info: ObjectInfo,
    fields: Sequence[FieldInfo],
    window: Window | None = None,
    window_field: str | None = None,
    conditions: Sequence[Condition] = (),
) -> str:
    """``SELECT ... FROM ... [WHERE ...]`` for one read."""
    if not fields:
        raise ConnectorError(f"no fields selected from {info.name}", code="INVALID_FIELD")
    where: list[str] = []
    if window is not None:
        if not window_field:
            raise ConnectorError(
                "a window needs a window_field (datetimeTypeFieldName)", code="INVALID_FIELD"
            )
        where.append(window_clause(info, window, window_field))
    where.extend(condition_clause(info, c) for c in conditions)
    select = ", ".join(check_name(f.name) for f in fields)
    soql = f"SELECT {select} FROM {check_name(info.name)}"
    if where:
        soql += " WHERE " + " AND ".join(where)
    return soql
