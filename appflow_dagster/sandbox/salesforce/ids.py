"""Salesforce-style record Ids: 15 case-sensitive characters plus the 3-character checksum suffix.

An Id is ``prefix (3) + pod (6) + base62(index) (6)``; base62 digits use the ASCII order
``0-9A-Za-z`` so string order equals index order, which keeps ``ORDER BY Id`` and paging stable.
"""

import datetime as dt

B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_B62_INDEX = {c: i for i, c in enumerate(B62)}
_SUFFIX = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
POD = "8d0000"
_WIDTH = 6
MAX_INDEX = 62**_WIDTH


def _suffix(id15: str) -> str:
    out = []
    for chunk in range(3):
        bits = 0
        for pos in range(5):
            c = id15[chunk * 5 + pos]
            if "A" <= c <= "Z":
                bits |= 1 << pos
        out.append(_SUFFIX[bits])
    return "".join(out)


def to_18(id15: str) -> str:
    """The 18-character form of a 15-character Id."""
    return id15 + _suffix(id15)


def make_id(prefix: str, index: int) -> str:
    """The 18-character Id of record ``index`` of the object with key prefix ``prefix``."""
    digits = []
    n = index
    for _ in range(_WIDTH):
        n, r = divmod(n, 62)
        digits.append(B62[r])
    id15 = prefix + POD + "".join(reversed(digits))
    return id15 + _suffix(id15)


def parse_id(prefix: str, value: str) -> int | None:
    """The record index an Id (15 or 18 characters) stands for, or None if it is not one of ours."""
    if len(value) not in (15, 18) or not value.startswith(prefix + POD):
        return None
    if len(value) == 18 and to_18(value[:15]) != value:
        return None
    n = 0
    for c in value[9:15]:
        d = _B62_INDEX.get(c)
        if d is None:
            return None
        n = n * 62 + d
    return n


_EPOCH_DATE = dt.date(1970, 1, 1)
_DAY_CACHE: dict[int, str] = {}
_TOD_CACHE: dict[int, str] = {}


def fmt_datetime(epoch_s: int) -> str:
    """Salesforce's REST rendering of a datetime: ``2024-05-01T12:34:56.000+0000``."""
    day, sod = divmod(epoch_s, 86400)
    d = _DAY_CACHE.get(day)
    if d is None:
        d = _DAY_CACHE[day] = (_EPOCH_DATE + dt.timedelta(days=day)).isoformat()
    t = _TOD_CACHE.get(sod)
    if t is None:
        h, rem = divmod(sod, 3600)
        t = _TOD_CACHE[sod] = f"T{h:02d}:{rem // 60:02d}:{rem % 60:02d}.000+0000"
    return d + t


def fmt_date(epoch_day: int) -> str:
    d = _DAY_CACHE.get(epoch_day)
    if d is None:
        d = _DAY_CACHE[epoch_day] = (_EPOCH_DATE + dt.timedelta(days=epoch_day)).isoformat()
    return d
