"""Deterministic, lazily generated records: every value is a function of (seed, object, index).

Records of an object are ordered by Id, and ``CreatedDate``, ``LastModifiedDate`` and
``SystemModstamp`` never decrease with the index (they spread over the 90 days before ``now``),
so a datetime window on them is a contiguous index range that ``query.py`` finds by binary search
instead of scanning. Every ``DELETE_PERIOD``-th record is deleted (visible only to ``queryAll``).
Internally datetimes are epoch seconds and dates epoch days; ``js()`` renders Salesforce's JSON.
"""

import datetime as dt
import random
from typing import Any

import orjson

from appflow_dagster.sandbox.salesforce.ids import fmt_date, fmt_datetime, make_id
from appflow_dagster.sandbox.salesforce.schema import CITIES, CO1, OBJECTS, Ctx, Field

TEMPLATES = 1009
DELETE_PERIOD = 50
SPAN_S = 90 * 86400
DEFAULT_RECORDS = 1000


def mix(i: int, salt: int) -> int:
    """A cheap 32-bit hash (Knuth multiplicative + xorshift); ``render.py`` vectorises the same formula."""
    x = ((i + salt) * 2654435761) % 4294967296
    return x ^ (x >> 16)


def js(f: Field, v: Any) -> str:
    """The JSON text Salesforce's REST API uses for value ``v`` of field ``f``."""
    if v is None:
        return "null"
    t = f.type
    if t == "datetime":
        return '"' + fmt_datetime(v) + '"'
    if t == "date":
        return '"' + fmt_date(v) + '"'
    return orjson.dumps(v).decode()


def py_to_json(f: Field, v: Any) -> Any:
    """The decoded-JSON value (for orjson) of internal value ``v``."""
    if v is None:
        return None
    if f.type == "datetime":
        return fmt_datetime(v)
    if f.type == "date":
        return fmt_date(v)
    return v


class Dataset:
    """All objects' records for one seed, size and ``now``; nothing is stored per record."""

    def __init__(
        self, seed: int = 7, records: int | dict[str, int] = DEFAULT_RECORDS, now: dt.datetime | None = None
    ):
        self.seed = seed
        if isinstance(records, int):
            self.sizes = {name: records for name in OBJECTS}
        else:
            unknown = set(records) - set(OBJECTS)
            if unknown:
                raise ValueError(f"unknown objects in records: {sorted(unknown)}")
            self.sizes = {name: int(records.get(name, DEFAULT_RECORDS)) for name in OBJECTS}
        if now is None:
            # Midnight UTC today: stable within a day, and the data stays recent for demos.
            now = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        if now.tzinfo is None:
            now = now.replace(tzinfo=dt.UTC)
        self.now = now
        self.end_s = int(now.timestamp())
        self.t0 = self.end_s - SPAN_S
        self.ctx = Ctx(today=self.end_s // 86400)
        self._templates: dict[tuple[str, int], dict[str, Any]] = {}

    # --- index-level functions (monotone, used by the planner) ---
    def size(self, obj: str) -> int:
        return self.sizes[obj]

    def created(self, obj: str, i: int) -> int:
        return self.t0 + (i * SPAN_S) // max(self.sizes[obj], 1)

    def modified(self, obj: str, i: int) -> int:
        n = max(self.sizes[obj], 1)
        return self.t0 + (i * SPAN_S + mix(i, self.seed) % SPAN_S) // n

    def deleted_residue(self) -> int:
        return self.seed % DELETE_PERIOD

    def is_deleted(self, i: int) -> bool:
        return i % DELETE_PERIOD == self.seed % DELETE_PERIOD

    def template_of(self, i: int) -> int:
        return (i * 40503 + self.seed) % TEMPLATES

    # --- values ---
    def template(self, obj: str, k: int) -> dict[str, Any]:
        key = (obj, k)
        t = self._templates.get(key)
        if t is None:
            rng = random.Random(f"{self.seed}:{obj}:{k}")
            t = {f.name: f.gen(rng, self.ctx) for f in OBJECTS[obj].fields if f.gen is not None}
            if "FirstName" in t:
                first, last = t["FirstName"], t["LastName"]
                t["Name"] = f"{first} {last}"
                t["Email"] = f"{first.lower()}.{last.lower()}@{rng.choice(CO1).lower()}.example.com"
            for p in ("Billing", "Shipping", "Mailing", ""):
                if p + "City" in t:  # keep city, state and postal code consistent
                    city, state, postal = next(c for c in CITIES if c[0] == t[p + "City"])
                    t[p + "State"], t[p + "PostalCode"] = state, postal
            self._templates[key] = t
        return t

    def record_id(self, obj: str, i: int) -> str:
        return make_id(OBJECTS[obj].key_prefix, i)

    def ref_index(self, target: str, i: int, salt: int) -> int | None:
        """The index of the ``target`` record that record ``i`` refers to (None if there are none)."""
        n = self.sizes[target]
        return mix(i, self.seed + salt) % n if n else None
