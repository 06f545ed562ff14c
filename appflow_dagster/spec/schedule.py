"""AppFlow schedule expressions → a cadence Dagster can run, and the pull windows of its partitions.

AppFlow writes ``rate(N minutes|hours|days)`` (also ``rate(5minutes)`` without a space, as the service
model's own example does) and six-field AWS ``cron(min hour dom month dow year)``. A cadence is either a
standard five-field cron string (Dagster-compatible) or, for rates no cron can state
(``rate(90 minutes)``, ``rate(7 days)``), a fixed interval counted from ``scheduleStartTime``.

Window arithmetic follows the guide (001 lines 19,895-19,908): a run at ``T1`` pulls records changed in
``[T0 − t, T1 − t)`` where ``t`` is ``scheduleOffset``; the first run pulls 30 days of past records
(001 line 19,890). Here a partition is the interval ``[T0, T1)`` between two fire times and its pull
window is that interval shifted back by the offset.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from appflow_dagster.spec.model import ScheduledTrigger

#: The first scheduled run pulls this much history when ``firstExecutionFrom`` is not set (001 line 19,890).
DEFAULT_FIRST_PULL = timedelta(days=30)


class ScheduleParseError(ValueError):
    """A schedule expression that cannot be parsed or has no runnable equivalent."""


@dataclass(frozen=True)
class ScheduleCadence:
    """When a scheduled flow fires. Exactly one of ``cron`` / ``fixed_interval`` is set."""

    expression: str
    #: Five-field cron (minute hour dom month dow, 0=SUN), evaluated in ``timezone``.
    cron: str | None = None
    #: For rates no cron can state: fire every ``fixed_interval`` from ``anchor``.
    fixed_interval: timedelta | None = None
    timezone: str = "UTC"
    #: ``scheduleOffset``: the pull window is the partition shifted back by this much.
    offset: timedelta = timedelta(0)
    #: ``scheduleStartTime``: where rates are counted from (None: midnight 1970-01-01 in ``timezone``).
    anchor: datetime | None = None
    #: The shortest gap between two runs (for the per-source frequency quotas, 001 line 21,584).
    min_interval: timedelta = field(default=timedelta(minutes=1))

    @property
    def tzinfo(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


_RATE = re.compile(r"^rate\(\s*(\d+)\s*(minute|minutes|hour|hours|day|days)\s*\)$", re.IGNORECASE)
_CRON = re.compile(r"^cron\((.*)\)$", re.IGNORECASE)
_UNIT = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}
_DOW_NAMES = {n: i for i, n in enumerate(["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])}
_MONTH_NAMES = {
    n: i + 1
    for i, n in enumerate(
        ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    )
}


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ScheduleParseError(
            f"unknown timezone {name!r} (use an IANA name such as 'America/New_York')"
        ) from e


def _aware(dt: datetime, tz: ZoneInfo) -> datetime:
    """Naive datetimes are UTC (AppFlow timestamps are epoch-based); the result is in ``tz``."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(tz)


def parse_schedule_expression(
    expression: str,
    *,
    timezone: str = "UTC",
    offset_seconds: int = 0,
    anchor: datetime | None = None,
) -> ScheduleCadence:
    """Parse an AppFlow ``rate(...)``/``cron(...)`` expression into a :class:`ScheduleCadence`.

    Rates that a cron can state are aligned to ``anchor`` (``scheduleStartTime``), as AppFlow counts
    rates from the start time: ``rate(1 hours)`` started at 10:17 fires at minute 17.
    """
    tz = _zone(timezone)
    text = expression.strip()
    offset = timedelta(seconds=offset_seconds)
    if m := _RATE.match(text):
        return _from_rate(text, int(m.group(1)), m.group(2).lower().rstrip("s"), tz, timezone, offset, anchor)
    if m := _CRON.match(text):
        cron, min_interval = aws_cron_to_cron(m.group(1))
        if next(_cron_fires_from(cron, tz, datetime(2000, 1, 1, tzinfo=tz)), None) is None:
            raise ScheduleParseError(f"{text} never fires")
        return ScheduleCadence(
            text, cron=cron, timezone=timezone, offset=offset, anchor=anchor, min_interval=min_interval
        )
    raise ScheduleParseError(
        f"cannot parse schedule expression {expression!r}; expected rate(N minutes|hours|days) "
        "or cron(minutes hours day-of-month month day-of-week year)"
    )


def _from_rate(
    text: str, n: int, unit: str, tz: ZoneInfo, timezone: str, offset: timedelta, anchor: datetime | None
) -> ScheduleCadence:
    if n < 1:
        raise ScheduleParseError(f"rate must be at least 1 {unit}")
    interval = n * _UNIT[unit]
    local = _aware(anchor, tz) if anchor else datetime(1970, 1, 1, tzinfo=tz)
    minutes = int(interval.total_seconds() // 60)
    cron: str | None = None
    if minutes < 60 and 60 % minutes == 0:
        cron = f"{local.minute % minutes}-59/{minutes} * * * *" if minutes > 1 else "* * * * *"
    elif minutes % 60 == 0 and minutes < 24 * 60 and (24 * 60) % minutes == 0:
        hours = minutes // 60
        hour_field = f"{local.hour % hours}-23/{hours}" if hours > 1 else "*"
        cron = f"{local.minute} {hour_field} * * *"
    elif minutes == 24 * 60:
        cron = f"{local.minute} {local.hour} * * *"
    if cron is not None:
        return ScheduleCadence(
            text, cron=cron, timezone=timezone, offset=offset, anchor=anchor, min_interval=interval
        )
    return ScheduleCadence(
        text, fixed_interval=interval, timezone=timezone, offset=offset, anchor=anchor, min_interval=interval
    )


# --- AWS cron → standard cron -------------------------------------------------------------------

_SIMPLE = re.compile(r"^(\*|\d+|[A-Z]{3})(?:-(\d+|[A-Z]{3}))?(?:/(\d+))?$")


def _num(tok: str, names: dict[str, int], what: str) -> int:
    if tok.isdigit():
        return int(tok)
    if tok in names:
        return names[tok]
    raise ScheduleParseError(f"invalid {what} value {tok!r}")


def _field(
    text: str, lo: int, hi: int, what: str, names: dict[str, int] | None = None, shift: int = 0
) -> str:
    """Validate one comma list of ``*``, ``a``, ``a-b``, ``*/n``, ``a/n``, ``a-b/n``; renumber by ``shift``."""
    out = []
    for part in text.split(","):
        m = _SIMPLE.match(part)
        if not m:
            raise ScheduleParseError(f"invalid {what} field {text!r}")
        start, end, step = m.groups()
        if start == "*":
            a, b = None, None
        else:
            a = _num(start, names or {}, what) + (shift if start.isdigit() else 0)
            b = _num(end, names or {}, what) + (shift if end.isdigit() else 0) if end else None
            for v in (a, b):
                if v is not None and not lo <= v <= hi:
                    raise ScheduleParseError(f"{what} value out of range in {text!r}")
        if step and a is not None and b is None:
            b = hi  # AWS "a/n" → standard "a-max/n", which every cron parser reads
        s = "*" if a is None else str(a) + (f"-{b}" if b is not None else "")
        if step:
            if int(step) < 1:
                raise ScheduleParseError(f"invalid step in {what} field {text!r}")
            s += f"/{int(step)}"
        out.append(s)
    return ",".join(out)


def aws_cron_to_cron(body: str) -> tuple[str, timedelta]:
    """``"0 12 ? * MON-FRI *"`` (AWS, 1=SUN) → (``"0 12 * * 1-5"``, shortest gap between runs).

    Raises :class:`ScheduleParseError` for forms no five-field cron states (``W``, ``nL``, a year
    other than ``*``).
    """
    fields = body.upper().split()
    if len(fields) != 6:
        raise ScheduleParseError(
            f"cron({body}) must have 6 fields: minutes hours day-of-month month day-of-week year"
        )
    minute, hour, dom, month, dow, year = fields
    if year not in ("*", "?"):
        raise ScheduleParseError(f"cron year field {year!r} is not supported; use '*'")
    if dom != "?" and dow != "?" and "*" not in (dom, dow):
        raise ScheduleParseError("cron: one of day-of-month and day-of-week must be '?'")
    m = _field(minute, 0, 59, "minutes")
    h = _field(hour, 0, 23, "hours")
    if dom in ("?", "*"):
        d = "*"
    elif dom == "L":
        d = "L"
    elif "W" in dom or "L" in dom:
        raise ScheduleParseError(f"cron day-of-month {dom!r} (W, L-n) has no standard cron equivalent")
    else:
        d = _field(dom, 1, 31, "day-of-month")
    mo = _field(month, 1, 12, "month", _MONTH_NAMES)
    if dow in ("?", "*"):
        w = "*"
    elif "L" in dow:
        raise ScheduleParseError(
            f"cron day-of-week {dow!r} (last weekday of month) has no standard cron equivalent"
        )
    elif "#" in dow:
        day, _, nth = dow.partition("#")
        if not nth.isdigit() or not 1 <= int(nth) <= 5:
            raise ScheduleParseError(f"invalid day-of-week {dow!r}")
        w = f"{_field(day, 0, 6, 'day-of-week', _DOW_NAMES, shift=-1)}#{int(nth)}"
    else:
        # AWS numbers days 1-7 from Sunday; standard cron 0-6 from Sunday.
        w = _field(dow, 0, 6, "day-of-week", _DOW_NAMES, shift=-1)
    if minute != "0" and not minute.isdigit():
        gap = timedelta(minutes=1)
    elif not hour.isdigit():
        gap = timedelta(hours=1)
    else:
        gap = timedelta(days=1)
    return f"{m} {h} {d} {mo} {w}", gap


# --- iterating fire times ----------------------------------------------------------------------


@dataclass(frozen=True)
class _CronSet:
    minutes: frozenset[int]
    hours: frozenset[int]
    doms: frozenset[int] | None  # None: any
    last_dom: bool
    months: frozenset[int]
    dows: frozenset[int] | None
    nth_dow: tuple[int, int] | None

    def day_matches(self, d: date) -> bool:
        if d.month not in self.months:
            return False
        dom_any = self.doms is None and not self.last_dom
        dow_any = self.dows is None and self.nth_dow is None
        dom_ok = (self.doms is not None and d.day in self.doms) or (
            self.last_dom and (d + timedelta(days=1)).month != d.month
        )
        wd = (d.weekday() + 1) % 7  # 0 = Sunday
        dow_ok = (self.dows is not None and wd in self.dows) or (
            self.nth_dow is not None and wd == self.nth_dow[0] and (d.day - 1) // 7 + 1 == self.nth_dow[1]
        )
        if dom_any and dow_any:
            return True
        if dom_any:
            return dow_ok
        if dow_any:
            return dom_ok
        return dom_ok or dow_ok


def _expand(text: str, lo: int, hi: int) -> frozenset[int]:
    values: set[int] = set()
    for part in text.split(","):
        rng, _, step = part.partition("/")
        if rng == "*":
            a, b = lo, hi
        elif "-" in rng:
            a, b = (int(x) for x in rng.split("-"))
        else:
            a = int(rng)
            b = hi if step else a
        values.update(range(a, b + 1, int(step) if step else 1))
    return frozenset(values)


def _cron_set(cron: str) -> _CronSet:
    m, h, d, mo, w = cron.split()
    dow_names = {k: str(v) for k, v in _DOW_NAMES.items()}
    for name, num in dow_names.items():
        w = w.replace(name, num)
    for mname, mnum in _MONTH_NAMES.items():
        mo = mo.replace(mname, str(mnum))
    nth = None
    dows = None
    if "#" in w:
        day, _, n = w.partition("#")
        nth = (int(day), int(n))
    elif w != "*":
        dows = frozenset(x % 7 for x in _expand(w, 0, 7))
    return _CronSet(
        minutes=_expand(m, 0, 59),
        hours=_expand(h, 0, 23),
        doms=None if d in ("*", "L") else _expand(d, 1, 31),
        last_dom=d == "L",
        months=_expand(mo, 1, 12),
        dows=dows,
        nth_dow=nth,
    )


def _cron_fires_from(cron: str, tz: ZoneInfo, start: datetime) -> Iterator[datetime]:
    """Fire times ``>= start`` in ascending order (wall-clock in ``tz``)."""
    cs = _cron_set(cron)
    local = start.astimezone(tz)
    day = local.date()
    times = sorted((h, m) for h in cs.hours for m in cs.minutes)
    for _ in range(366 * 30):
        if cs.day_matches(day):
            for h, mi in times:
                t = datetime(day.year, day.month, day.day, h, mi, tzinfo=tz)
                if t >= start:
                    yield t
        day += timedelta(days=1)


def _cron_prev_or_equal(cron: str, tz: ZoneInfo, t: datetime) -> datetime:
    cs = _cron_set(cron)
    local = t.astimezone(tz)
    day = local.date()
    times = sorted(((h, m) for h in cs.hours for m in cs.minutes), reverse=True)
    for _ in range(366 * 30):
        if cs.day_matches(day):
            for h, mi in times:
                c = datetime(day.year, day.month, day.day, h, mi, tzinfo=tz)
                if c <= t:
                    return c
        day -= timedelta(days=1)
    raise ScheduleParseError(f"cron {cron!r} never fires")


def _fixed_anchor(cadence: ScheduleCadence, anchor: datetime | None) -> datetime:
    # In UTC: a fixed interval counts elapsed time, not wall-clock time, across DST changes.
    a = anchor or cadence.anchor
    local = _aware(a, cadence.tzinfo) if a else datetime(1970, 1, 1, tzinfo=cadence.tzinfo)
    return local.astimezone(UTC)


def align_down(cadence: ScheduleCadence, t: datetime, anchor: datetime | None = None) -> datetime:
    """The last fire time at or before ``t``."""
    tz = cadence.tzinfo
    t = _aware(t, tz)
    if cadence.cron is not None:
        return _cron_prev_or_equal(cadence.cron, tz, t)
    assert cadence.fixed_interval is not None
    a = _fixed_anchor(cadence, anchor)
    k = (t - a) // cadence.fixed_interval
    return (a + k * cadence.fixed_interval).astimezone(tz)


def next_fire(cadence: ScheduleCadence, t: datetime, anchor: datetime | None = None) -> datetime:
    """The first fire time strictly after ``t``."""
    tz = cadence.tzinfo
    t = _aware(t, tz)
    if cadence.cron is not None:
        return next(
            _cron_fires_from(
                cadence.cron,
                tz,
                t + timedelta(minutes=1) - timedelta(seconds=t.second, microseconds=t.microsecond),
            )
        )
    assert cadence.fixed_interval is not None
    a = _fixed_anchor(cadence, anchor)
    k = (t - a) // cadence.fixed_interval + 1
    return (a + k * cadence.fixed_interval).astimezone(tz)


def partition_windows(
    cadence: ScheduleCadence,
    first_start: datetime,
    anchor: datetime | None = None,
    until: datetime | None = None,
) -> Iterator[tuple[datetime, datetime]]:
    """Consecutive partitions ``[T(k), T(k+1))`` from the fire time at/before ``first_start``.

    Stops at the last partition that ends at or before ``until`` (required for unbounded cadences).
    """
    if until is None:
        raise ValueError("partition_windows needs 'until'")
    tz = cadence.tzinfo
    until = _aware(until, tz)
    start = align_down(cadence, first_start, anchor)
    while True:
        end = next_fire(cadence, start, anchor)
        if end > until:
            return
        yield start, end
        start = end


def window_for_partition(
    cadence: ScheduleCadence, partition_start: datetime, anchor: datetime | None = None
) -> tuple[datetime, datetime]:
    """The pull window of the partition starting at ``partition_start``: ``[start − offset, end − offset)``."""
    start = align_down(cadence, partition_start, anchor)
    end = next_fire(cadence, start, anchor)
    tz = cadence.tzinfo
    return (
        (start.astimezone(UTC) - cadence.offset).astimezone(tz),
        (end.astimezone(UTC) - cadence.offset).astimezone(tz),
    )


def cadence_for_trigger(trigger: ScheduledTrigger) -> ScheduleCadence:
    """The cadence of a ``ScheduledTriggerProperties`` (expression, timezone, offset, start time)."""
    return parse_schedule_expression(
        trigger.schedule_expression,
        timezone=trigger.timezone or "UTC",
        offset_seconds=trigger.schedule_offset,
        anchor=trigger.schedule_start_time,
    )


def first_partition_start(trigger: ScheduledTrigger, loaded_at: datetime) -> datetime:
    """Start of the first partition: ``firstExecutionFrom``, else 30 days before ``scheduleStartTime``
    (or before ``loaded_at`` when there is no start time), aligned down to the cadence.

    001 line 19,890: "The first schedule-triggered flow will pull 30 days of past records";
    ``firstExecutionFrom`` "specifies the date range for the records to import ... in the first flow run"
    (botocore ``ScheduledTriggerProperties``).
    """
    cadence = cadence_for_trigger(trigger)
    if trigger.first_execution_from is not None:
        base = trigger.first_execution_from
    else:
        base = (trigger.schedule_start_time or loaded_at) - DEFAULT_FIRST_PULL
    return align_down(cadence, base)
