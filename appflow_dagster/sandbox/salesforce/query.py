"""SOQL semantics over a ``Dataset``: field resolution, typed predicates, a planner and a renderer.

The planner turns an ``AND`` of comparisons on the monotone fields (Id, CreatedDate,
LastModifiedDate, SystemModstamp) plus ``IsDeleted`` into an index range found by binary search, so
a windowed full-object pull of millions of records starts instantly; any other query scans.
"""

import bisect
import re
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from appflow_dagster.sandbox.salesforce.data import DELETE_PERIOD, Dataset
from appflow_dagster.sandbox.salesforce.ids import fmt_date, fmt_datetime, to_18
from appflow_dagster.sandbox.salesforce.render import Renderer
from appflow_dagster.sandbox.salesforce.schema import OBJECTS_LOWER, Field, SObject
from appflow_dagster.sandbox.salesforce.soql import (
    Bool,
    Cmp,
    In,
    Like,
    Lit,
    Query,
    SoqlError,
    position_message,
)

STRINGY = {"string", "textarea", "picklist", "email", "phone", "url", "id", "reference", "multipicklist"}
NUMERIC = {"double", "currency", "int", "percent"}
MONOTONE = {"Id", "CreatedDate", "LastModifiedDate", "SystemModstamp"}
_TYPE_WORD = {"datetime": "dateTime", "date": "date", "boolean": "boolean"}


def invalid_field(q: Query, pos: int, name: str, obj: str) -> SoqlError:
    detail = (
        f"No such column '{name}' on entity '{obj}'. If you are attempting to use a custom field, be sure "
        "to append the '__c' after the custom field name. Please reference your WSDL or the describe call "
        "for the appropriate names."
    )
    return SoqlError("INVALID_FIELD", position_message(q.text, pos, detail))


def _resolve(q: Query, so: SObject, name: str, pos: int) -> Field:
    f = so.field(name)
    if f is None:
        raise invalid_field(q, pos, name, so.name)
    return f


# --- selections: which record indices a query returns, in order, without materialising ranges ---
class RangeSel:
    """Indices in ``[lo, hi)``; ``mode`` keeps all, only live or only deleted records."""

    def __init__(self, lo: int, hi: int, mode: str, residue: int):
        self.lo, self.hi, self.mode, self.r = lo, max(lo, hi), mode, residue

    def _deleted_below(self, x: int) -> int:
        return max(0, (x - self.r + DELETE_PERIOD - 1) // DELETE_PERIOD)

    def __len__(self) -> int:
        d = self._deleted_below(self.hi) - self._deleted_below(self.lo)
        return {"all": self.hi - self.lo, "live": self.hi - self.lo - d, "deleted": d}[self.mode]

    def iter_from(self, k: int) -> Iterator[int]:
        if self.mode == "all":
            yield from range(self.lo + k, self.hi)
            return
        if self.mode == "deleted":
            first = self.lo + (self.r - self.lo) % DELETE_PERIOD
            yield from range(first + k * DELETE_PERIOD, self.hi, DELETE_PERIOD)
            return
        # live: the k-th live index is one below the first x whose live count in [lo, x) exceeds k
        lo, r = self.lo, self.r
        base = self._deleted_below(lo)
        xs = range(lo, self.hi + 1)
        pos = bisect.bisect_left(xs, k + 1, key=lambda x: x - lo - (self._deleted_below(x) - base))
        start = xs[pos] - 1 if pos < len(xs) else self.hi
        for j in range(start, self.hi):
            if j % DELETE_PERIOD != r:
                yield j


class ListSel:
    def __init__(self, items: array):
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def iter_from(self, k: int) -> Iterator[int]:
        return iter(self.items[k:])


class SliceSel:
    def __init__(self, base: Any, offset: int, limit: int | None):
        self.base, self.offset = base, offset
        avail = max(0, len(base) - offset)
        self.n = avail if limit is None else min(limit, avail)

    def __len__(self) -> int:
        return self.n

    def iter_from(self, k: int) -> Iterator[int]:
        it = self.base.iter_from(self.offset + k)
        for _, i in zip(range(self.n - k), it, strict=False):
            yield i


# --- predicates ---
def _coerce(q: Query, f: Field, lit: Lit, pos: int, ds: Dataset) -> Any:
    """A literal as the field's internal value (or a (lo, hi) range for relative date literals)."""
    t, k = f.type, lit.kind
    if k == "null":
        return None
    ok = (
        (t in STRINGY and k == "string")
        or (t in NUMERIC and k == "number")
        or (t == "boolean" and k == "boolean")
        or (t == "date" and k in ("date", "relative"))
        or (t == "datetime" and k in ("datetime", "relative"))
    )
    if not ok:
        if t in STRINGY:
            detail = f"value of filter criterion for field '{f.name}' must be of type string and should be enclosed in quotes"
        else:
            detail = f"value of filter criterion for field '{f.name}' must be of type {_TYPE_WORD.get(t, 'double')} and should not be enclosed in quotes"
        raise SoqlError("INVALID_FIELD", position_message(q.text, pos, detail))
    if k == "relative":
        lo, hi = relative_days(lit.value, ds.ctx.today)
        return (
            (fmt_datetime(lo * 86400), fmt_datetime(hi * 86400))
            if t == "datetime"
            else (fmt_date(lo), fmt_date(hi))
        )
    v = lit.value
    if k == "datetime":  # internal values are Salesforce's JSON text, which sorts chronologically
        whole = int(v // 1)
        return fmt_datetime(whole).replace(".000+", f".{round((v - whole) * 1000):03d}+")
    if k == "date":
        return fmt_date(v)
    if t in ("id", "reference") and len(v) == 15:
        return to_18(v)
    if t == "int" and isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def relative_days(lit: tuple[str, int], today: int) -> tuple[int, int]:
    """``[first day, day after last)`` of a relative date literal, in epoch days (weeks start Sunday)."""
    import datetime as dt

    name, n = lit
    d = dt.date.fromordinal(today + 719163)
    sunday = today - (d.isoweekday() % 7)

    def month_start(y: int, m: int) -> int:
        y, m = y + (m - 1) // 12, (m - 1) % 12 + 1
        return dt.date(y, m, 1).toordinal() - 719163

    table = {
        "TODAY": (today, today + 1),
        "YESTERDAY": (today - 1, today),
        "TOMORROW": (today + 1, today + 2),
        "THIS_WEEK": (sunday, sunday + 7),
        "LAST_WEEK": (sunday - 7, sunday),
        "NEXT_WEEK": (sunday + 7, sunday + 14),
        "THIS_MONTH": (month_start(d.year, d.month), month_start(d.year, d.month + 1)),
        "LAST_MONTH": (month_start(d.year, d.month - 1), month_start(d.year, d.month)),
        "NEXT_MONTH": (month_start(d.year, d.month + 1), month_start(d.year, d.month + 2)),
        "LAST_90_DAYS": (today - 90, today + 1),
        "NEXT_90_DAYS": (today + 1, today + 91),
        "THIS_YEAR": (month_start(d.year, 1), month_start(d.year + 1, 1)),
        "LAST_YEAR": (month_start(d.year - 1, 1), month_start(d.year, 1)),
        "NEXT_YEAR": (month_start(d.year + 1, 1), month_start(d.year + 2, 1)),
        "LAST_N_DAYS": (today - n, today + 1),
        "NEXT_N_DAYS": (today + 1, today + n + 1),
        "N_DAYS_AGO": (today - n, today - n + 1),
        "LAST_N_WEEKS": (sunday - 7 * n, sunday),
        "NEXT_N_WEEKS": (sunday + 7, sunday + 7 * (n + 1)),
        "LAST_N_MONTHS": (month_start(d.year, d.month - n), month_start(d.year, d.month)),
        "NEXT_N_MONTHS": (month_start(d.year, d.month + 1), month_start(d.year, d.month + n + 1)),
    }
    return table[name]


_CASELESS = STRINGY - {"id", "reference"}


def _fold(f: Field, v: Any) -> Any:
    """SOQL compares text case-insensitively (Ids excepted)."""
    return v.lower() if isinstance(v, str) and f.type in _CASELESS else v


def _cmp_pred(f: Field, op: str, v: Any) -> Callable[[dict], bool]:
    name = f.name
    if isinstance(v, tuple):  # relative date literal: a [lo, hi) range
        lo, hi = v
        return {
            "=": lambda r: r[name] is not None and lo <= r[name] < hi,
            "!=": lambda r: r[name] is None or not lo <= r[name] < hi,
            "<": lambda r: r[name] is not None and r[name] < lo,
            "<=": lambda r: r[name] is not None and r[name] < hi,
            ">": lambda r: r[name] is not None and r[name] >= hi,
            ">=": lambda r: r[name] is not None and r[name] >= lo,
        }[op]
    if v is None:
        if op == "=":
            return lambda r: r[name] is None
        if op == "!=":
            return lambda r: r[name] is not None
        return lambda r: False
    v = _fold(f, v)
    fold = (lambda x: x.lower()) if isinstance(v, str) and f.type in _CASELESS else (lambda x: x)
    ops: dict[str, Callable[[Any], bool]] = {
        "=": lambda x: x == v,
        "!=": lambda x: x != v,
        "<": lambda x: x < v,
        "<=": lambda x: x <= v,
        ">": lambda x: x > v,
        ">=": lambda x: x >= v,
    }
    test = ops[op]
    if op == "!=":
        return lambda r: r[name] is None or test(fold(r[name]))
    return lambda r: r[name] is not None and test(fold(r[name]))


def like_regex(pattern: str) -> re.Pattern:
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if c == "%" else "." if c == "_" else re.escape(c))
        i += 1
    return re.compile("".join(out), re.IGNORECASE | re.DOTALL)


def compile_where(q: Query, so: SObject, node: Any, ds: Dataset) -> Callable[[dict], bool]:
    if isinstance(node, Bool):
        parts = [compile_where(q, so, a, ds) for a in node.args]
        if node.op == "NOT":
            p = parts[0]
            return lambda r: not p(r)
        if node.op == "AND":
            return lambda r: all(p(r) for p in parts)
        return lambda r: any(p(r) for p in parts)
    f = _resolve(q, so, node.field, node.pos)
    if isinstance(node, Cmp):
        return _cmp_pred(f, node.op, _coerce(q, f, node.value, node.pos, ds))
    if isinstance(node, In):
        vals = {_fold(f, _coerce(q, f, v, node.pos, ds)) for v in node.values}
        name = f.name
        if node.negate:
            return lambda r: _fold(f, r[name]) not in vals
        return lambda r: r[name] is not None and _fold(f, r[name]) in vals
    if isinstance(node, Like):
        if f.type not in STRINGY:
            raise SoqlError(
                "INVALID_FIELD",
                position_message(q.text, node.pos, f"invalid operator on {f.type} field: LIKE"),
            )
        rx, name = like_regex(node.pattern), f.name
        return lambda r: r[name] is not None and rx.fullmatch(r[name]) is not None
    raise TypeError(node)


# --- planning ---
SCAN_CHUNK = 20_000


def _where_fields(node: Any) -> set[str]:
    if node is None:
        return set()
    if isinstance(node, Bool):
        return set().union(*(_where_fields(a) for a in node.args))
    return {node.field}


@dataclass
class Plan:
    so: SObject
    fields: tuple[Field, ...]
    count: bool
    selection: Any


def select_fields(q: Query, so: SObject) -> tuple[Field, ...]:
    out: list[Field] = []
    for name, pos in q.fields:
        if name in ("FIELDS(ALL)", "FIELDS(CUSTOM)") and (q.limit is None or q.limit > 200):
            raise SoqlError(
                "MALFORMED_QUERY",
                position_message(q.text, pos, "The SOQL FIELDS function must have a LIMIT of at most 200"),
            )
        if name in ("FIELDS(ALL)", "FIELDS(STANDARD)"):
            out.extend(f for f in so.fields if all(o.name != f.name for o in out))
        elif name != "FIELDS(CUSTOM)":  # the sandbox's objects have no custom fields
            f = _resolve(q, so, name, pos)
            if any(o.name == f.name for o in out):
                raise SoqlError(
                    "MALFORMED_QUERY", position_message(q.text, pos, f"duplicate field selected: {f.name}")
                )
            out.append(f)
    return tuple(out)


def _monotone_key(ds: Dataset, so: SObject, name: str) -> Callable[[int], Any]:
    obj = so.name
    if name == "Id":
        return lambda i: ds.record_id(obj, i)
    if name == "CreatedDate":
        return lambda i: fmt_datetime(ds.created(obj, i))
    return lambda i: fmt_datetime(ds.modified(obj, i))


def _fast_range(q: Query, so: SObject, ds: Dataset, include_deleted: bool) -> RangeSel | None:
    n = ds.size(so.name)
    mode = "all" if include_deleted else "live"
    order_field = so.field(q.order[0].field) if len(q.order) == 1 else None
    if q.order and not (order_field is not None and order_field.name in MONOTONE and not q.order[0].desc):
        return None
    conj = (
        list(q.where.args)
        if isinstance(q.where, Bool) and q.where.op == "AND"
        else [q.where]
        if q.where
        else []
    )
    lo, hi = 0, n
    for c in conj:
        if not isinstance(c, Cmp):
            return None
        f = _resolve(q, so, c.field, c.pos)
        v = _coerce(q, f, c.value, c.pos, ds)
        if f.name == "IsDeleted" and c.op in ("=", "!=") and isinstance(v, bool):
            want_deleted = v if c.op == "=" else not v
            if want_deleted:
                mode = "deleted" if mode in ("all", "deleted") else "none"
            else:
                mode = "live" if mode != "deleted" else "none"
            continue
        if f.name not in MONOTONE or c.op == "!=" or v is None:
            return None
        key = _monotone_key(ds, so, f.name)
        a, b = v if isinstance(v, tuple) else (v, None)
        rng = range(n)
        if isinstance(v, tuple):
            bounds = {
                "=": (a, "<", b),
                "<": (None, "<", a),
                "<=": (None, "<", b),
                ">": (b, "<", None),
                ">=": (a, "<", None),
            }
            ge, _, lt = bounds[c.op]
            if ge is not None:
                lo = max(lo, bisect.bisect_left(rng, ge, key=key))
            if lt is not None:
                hi = min(hi, bisect.bisect_left(rng, lt, key=key))
            continue
        if c.op in ("=", ">="):
            lo = max(lo, bisect.bisect_left(rng, a, key=key))
        if c.op == ">":
            lo = max(lo, bisect.bisect_right(rng, a, key=key))
        if c.op in ("=", "<="):
            hi = min(hi, bisect.bisect_right(rng, a, key=key))
        if c.op == "<":
            hi = min(hi, bisect.bisect_left(rng, a, key=key))
    if mode == "none":
        return RangeSel(0, 0, "all", 0)
    return RangeSel(lo, hi, mode, ds.deleted_residue())


def _sort_key(f: Field, desc: bool, nulls_last: bool) -> Callable[[dict], tuple]:
    none_flag = 0 if desc == nulls_last else 2
    name = f.name
    return lambda r: (none_flag, 0) if r[name] is None else (1, _fold(f, r[name]))


def plan(q: Query, ds: Dataset, include_deleted: bool) -> Plan:
    so = OBJECTS_LOWER.get(q.obj.lower())
    if so is None:
        detail = (
            f"sObject type '{q.obj}' is not supported. If you are attempting to use a custom object, be sure to "
            "append the '__c' after the entity name. Please reference your WSDL or the describe call for the "
            "appropriate names."
        )
        raise SoqlError("INVALID_TYPE", position_message(q.text, q.obj_pos, detail))
    fields = select_fields(q, so)
    if q.offset is not None and q.offset > 2000:
        raise SoqlError("NUMBER_OUTSIDE_VALID_RANGE", "Maximum SOQL offset allowed is 2000")
    pred = compile_where(q, so, q.where, ds) if q.where is not None else None  # validates every field
    orders = [(_resolve(q, so, o.field, o.pos), o) for o in q.order]
    sel: Any = _fast_range(q, so, ds, include_deleted)
    if sel is None:
        obj = so.name
        needed = {f.name for f, _ in orders} | {so.field(n).name for n in _where_fields(q.where)}  # type: ignore[union-attr]
        renderer = Renderer(ds, so, tuple(f for f in so.fields if f.name in needed), "0")
        rows = []
        n = ds.size(obj)
        for start in range(0, n, SCAN_CHUNK):
            idx = range(start, min(n, start + SCAN_CHUNK))
            for i, r in zip(idx, renderer.records(idx), strict=True):
                if not include_deleted and i % DELETE_PERIOD == ds.deleted_residue():
                    continue
                if pred is None or pred(r):
                    rows.append((i, r))
        for f, o in reversed(orders):
            k = _sort_key(f, o.desc, o.nulls_last)
            rows.sort(key=lambda row, k=k: k(row[1]), reverse=o.desc)  # type: ignore[misc]
        sel = ListSel(array("q", (i for i, _ in rows)))
    if q.offset or q.limit is not None:
        sel = SliceSel(sel, q.offset or 0, q.limit)
    return Plan(so, fields, q.count, sel)
