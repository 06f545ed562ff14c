"""Vectorised JSON rendering of records with polars: a page of 2,000 records is one expression.

Each record's JSON is the concatenation of template segments (pre-rendered per template, picked
by the record's template number) and varying values computed from the index column ``i``
(Id, audit dates, names, references). This is the only place varying values are defined, so the
record endpoint and the scanning query path decode what this renders.
"""

from collections.abc import Sequence
from typing import Any

import orjson
import polars as pl

from appflow_dagster.sandbox.salesforce.data import DELETE_PERIOD, SPAN_S, TEMPLATES, Dataset, js
from appflow_dagster.sandbox.salesforce.ids import _SUFFIX, B62, POD
from appflow_dagster.sandbox.salesforce.schema import CO1, CO2, OBJECTS, Field, SObject

_DT = "%Y-%m-%dT%H:%M:%S.000+0000"
_B62 = pl.Series(list(B62))
_SUF = pl.Series(list(_SUFFIX))
_CO1 = pl.Series(CO1)
_CO2 = pl.Series(CO2)


def _upper_bits(s: str) -> int:
    return sum(1 << p for p, c in enumerate(s) if "A" <= c <= "Z")


def mix_expr(i: pl.Expr, salt: int) -> pl.Expr:
    x = ((i + salt) * 2654435761) % 4294967296
    return x.xor(x // 65536)


_PAIRS = [a + b for a in B62 for b in B62]
_PAIR = pl.Series(_PAIRS)
_UP = [int("A" <= p[0] <= "Z") + 2 * int("A" <= p[1] <= "Z") for p in _PAIRS]
_UP_PAIR = pl.Series(_UP, dtype=pl.UInt32)


def id_expr(prefix: str, i: pl.Expr) -> pl.Expr:
    """``ids.make_id`` over a column: three base62 digit pairs, then the case-checksum suffix."""
    p0, p1, p2 = (i // 3844**2) % 3844, (i // 3844) % 3844, i % 3844
    u0, u1, u2 = (pl.lit(_UP_PAIR).gather(p) for p in (p0, p1, p2))
    head = prefix + POD  # 9 constant characters: chunk 1 and the first 4 of chunk 2
    b2 = pl.lit(_upper_bits(head[5:9])) + (u0 % 2) * 16  # chunk 2 = head[5:9] + digit 0
    b3 = u0 // 2 + u1 * 2 + u2 * 8  # chunk 3 = digits 1..5
    return pl.concat_str(
        [
            pl.lit(head),
            *(pl.lit(_PAIR).gather(p) for p in (p0, p1, p2)),
            pl.lit(_SUFFIX[_upper_bits(head[:5])]),
            pl.lit(_SUF).gather(b2),
            pl.lit(_SUF).gather(b3),
        ]
    )


def _q(e: pl.Expr) -> pl.Expr:
    return pl.concat_str([pl.lit('"'), e, pl.lit('"')])


def _ref(ds: Dataset, target: str, i: pl.Expr, salt: int) -> pl.Expr:
    n = ds.size(target)
    if n == 0:
        return pl.lit("null")
    return _q(id_expr(OBJECTS[target].key_prefix, mix_expr(i, ds.seed + salt) % n))


def varying_exprs(ds: Dataset, so: SObject, names: set[str]) -> dict[str, pl.Expr]:
    """JSON text expressions of the varying fields in ``names`` (index column ``i``, UInt64)."""
    i = pl.col("i")
    n = max(ds.size(so.name), 1)
    lm = pl.lit(ds.t0, pl.Int64) + ((i * SPAN_S + mix_expr(i, ds.seed) % SPAN_S) // n).cast(pl.Int64)
    stamp = _q(pl.from_epoch(lm, time_unit="s").dt.strftime(_DT))
    e: dict[str, Any] = {
        "Id": lambda: _q(id_expr(so.key_prefix, i)),
        "IsDeleted": lambda: (
            pl.when(i % DELETE_PERIOD == ds.seed % DELETE_PERIOD)
            .then(pl.lit("true"))
            .otherwise(pl.lit("false"))
        ),
        "CreatedDate": lambda: _q(
            pl.from_epoch(
                pl.lit(ds.t0, pl.Int64) + ((i * SPAN_S) // n).cast(pl.Int64), time_unit="s"
            ).dt.strftime(_DT)
        ),
        "LastModifiedDate": lambda: stamp,
        "SystemModstamp": lambda: stamp,
    }
    if so.name == "Account":
        e["Name"] = lambda: _q(
            pl.concat_str(
                [
                    pl.lit(_CO1).gather(i % len(CO1)),
                    pl.lit(" "),
                    pl.lit(_CO2).gather((i // len(CO1)) % len(CO2)),
                    pl.lit(" "),
                    (i + 1).cast(pl.String),
                ]
            )
        )
        e["AccountNumber"] = lambda: _q(pl.concat_str([pl.lit("AC-"), (i + 1).cast(pl.String).str.zfill(7)]))
    elif so.name == "Contact":
        e["AccountId"] = lambda: _ref(ds, "Account", i, 1)
    elif so.name == "Opportunity":
        e["AccountId"] = lambda: _ref(ds, "Account", i, 2)
        e["Name"] = lambda: _q(
            pl.concat_str(
                [
                    pl.lit(_CO1).gather((i * 7) % len(CO1)),
                    pl.lit(" "),
                    pl.lit(_CO2).gather(i % len(CO2)),
                    pl.lit(" - Deal "),
                    (i + 1).cast(pl.String),
                ]
            )
        )
    elif so.name == "Case":
        e["CaseNumber"] = lambda: _q((i + 1).cast(pl.String).str.zfill(8))
        n_con = ds.size("Contact")
        if n_con:
            j = mix_expr(i, ds.seed + 3) % n_con
            e["ContactId"] = lambda: _q(id_expr("003", j))
            e["AccountId"] = lambda: _ref(ds, "Account", j, 1)  # the contact's account
        else:
            e["ContactId"] = lambda: pl.lit("null")
            e["AccountId"] = lambda: _ref(ds, "Account", i, 4)
    return {name: e[name]() for name in names}


def _compile_join(slots: int) -> Any:
    """A generated loop joining template segments and varying values: no per-record format parsing."""
    args = ", ".join(f"a{j}" for j in range(slots))
    pieces = ", ".join(f"S{j}[k], a{j}" for j in range(slots)) + f", S{slots}[k]"
    unpack = ", ".join(f"S{j}" for j in range(slots + 1))
    src = (
        f"def join(segments, ks, {args}):\n"
        f"    {unpack}, = segments\n"
        f"    return ['{{}}'.join(({pieces})) for k, {args} in zip(ks, {args})]\n"
    ).replace("'{}'", "''")
    ns: dict[str, Any] = {}
    exec(compile(src, "<sandbox-render>", "exec"), ns)  # noqa: S102 - generated from integers only
    return ns["join"]


class Renderer:
    """Renders records of one object and field list (in SELECT order) for one API version."""

    def __init__(self, ds: Dataset, so: SObject, fields: Sequence[Field], version: str):
        self.ds, self.so, self.fields = ds, so, tuple(fields)
        url = f'{{"attributes":{{"type":"{so.name}","url":"/services/data/v{version}/sobjects/{so.name}/'
        names = [f.name for f in self.fields if f.varying]
        exprs = varying_exprs(ds, so, set(names))
        raw_id = id_expr(so.key_prefix, pl.col("i"))
        self.columns = [raw_id.alias("_id"), *(exprs[n].alias(n) for n in names)]
        self.slots = ["_id", *names]
        # segments[j][k]: the text of template k between varying slot j-1 and slot j
        segments: list[list[str]] = [[] for _ in range(len(self.slots) + 1)]
        for k in range(TEMPLATES):
            t = ds.template(so.name, k)
            segments[0].append(url)
            parts, j = ['"}'], 1
            for f in self.fields:
                parts.append(f',"{f.name}":')
                if f.varying:
                    segments[j].append("".join(parts))
                    parts, j = [], j + 1
                else:
                    parts.append(js(f, t[f.name]))
            parts.append("}")
            segments[j].append("".join(parts))
        self.segments = segments
        self._join = _compile_join(len(self.slots))

    def render(self, indices: Sequence[int] | range) -> str:
        """The records at ``indices`` as JSON objects joined by commas (no brackets)."""
        if len(indices) == 0:
            return ""
        frame = pl.DataFrame({"i": pl.Series(indices, dtype=pl.UInt64)})
        frame = frame.select(((pl.col("i") * 40503 + self.ds.seed) % TEMPLATES).alias("_k"), *self.columns)
        cols = [frame.get_column(c).to_list() for c in ("_k", *self.slots)]
        return ",".join(self._join(self.segments, *cols))

    def records(self, indices: Sequence[int] | range) -> list[dict]:
        return orjson.loads("[" + self.render(indices) + "]")
