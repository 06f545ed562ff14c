"""rate()/cron() → cadence, partition windows with scheduleOffset, first partition."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from appflow_dagster.spec.model import ScheduledTrigger
from appflow_dagster.spec.schedule import (
    ScheduleParseError,
    first_partition_start,
    parse_schedule_expression,
    partition_windows,
    window_for_partition,
)

START = datetime(2024, 6, 3, 10, 17, tzinfo=UTC)  # a scheduleStartTime off the hour


@pytest.mark.parametrize(
    ("expression", "cron", "interval"),
    [
        ("rate(1 minute)", "* * * * *", None),
        ("rate(5minutes)", "2-59/5 * * * *", None),  # AppFlow's own spelling, anchored at :17
        ("rate(15 minutes)", "2-59/15 * * * *", None),
        ("rate(7 minutes)", None, timedelta(minutes=7)),
        ("rate(90 minutes)", None, timedelta(minutes=90)),
        ("rate(120 minutes)", "17 0-23/2 * * *", None),
        ("rate(1 hour)", "17 * * * *", None),
        ("rate(1hours)", "17 * * * *", None),
        ("rate(6 hours)", "17 4-23/6 * * *", None),
        ("rate(5 hours)", None, timedelta(hours=5)),
        ("rate(1 day)", "17 10 * * *", None),
        ("rate(7 days)", None, timedelta(days=7)),
        ("cron(0 12 * * ? *)", "0 12 * * *", None),
        ("cron(0/15 * * * ? *)", "0-59/15 * * * *", None),
        ("cron(0 18 ? * MON-FRI *)", "0 18 * * 1-5", None),
        ("cron(0 8 ? * 1-7 *)", "0 8 * * 0-6", None),  # AWS 1=SUN
        ("cron(0 8 ? * 2,6 *)", "0 8 * * 1,5", None),
        ("cron(0 8 ? * 2#1 *)", "0 8 * * 1#1", None),  # first Monday
        ("cron(30 1 L * ? *)", "30 1 L * *", None),
        ("cron(0 0 1 JAN,JUL ? *)", "0 0 1 1,7 *", None),
    ],
)
def test_expression_table(expression: str, cron: str | None, interval: timedelta | None) -> None:
    cadence = parse_schedule_expression(expression, anchor=START)
    assert (cadence.cron, cadence.fixed_interval) == (cron, interval)


@pytest.mark.parametrize(
    "expression",
    [
        "rate(0 minutes)",
        "rate(1 week)",
        "every hour",
        "cron(0 8 * *)",
        "cron(0 8 ? * 6L *)",
        "cron(0 8 15W * ? *)",
        "cron(0 8 * * ? 2025)",
        "cron(61 8 * * ? *)",
        "cron(0 8 ? * 8 *)",
        "cron(0 0 30 2 ? *)",
    ],
)
def test_unsupported_expressions(expression: str) -> None:
    with pytest.raises(ScheduleParseError):
        parse_schedule_expression(expression)


def test_hourly_windows_with_offset() -> None:
    cadence = parse_schedule_expression("rate(1 hours)", offset_seconds=600)
    windows = list(
        partition_windows(
            cadence, datetime(2024, 1, 1, 0, 30, tzinfo=UTC), until=datetime(2024, 1, 1, 3, tzinfo=UTC)
        )
    )
    hours = [datetime(2024, 1, 1, h, tzinfo=UTC) for h in range(4)]
    assert windows == list(zip(hours[:-1], hours[1:], strict=True))
    # 001 lines 19,903-19,908: the run at T1 pulls [T0 - t, T1 - t).
    assert window_for_partition(cadence, hours[1]) == (
        datetime(2024, 1, 1, 0, 50, tzinfo=UTC),
        datetime(2024, 1, 1, 1, 50, tzinfo=UTC),
    )


def test_fixed_interval_windows_are_anchored_at_start_time() -> None:
    cadence = parse_schedule_expression("rate(90 minutes)", anchor=START, offset_seconds=300)
    windows = list(partition_windows(cadence, START, until=START + timedelta(hours=4, minutes=30)))
    assert windows == [
        (START, START + timedelta(minutes=90)),
        (START + timedelta(minutes=90), START + timedelta(minutes=180)),
        (START + timedelta(minutes=180), START + timedelta(minutes=270)),
    ]
    # A partition start inside a window maps to that window; the pull is shifted by the offset.
    assert window_for_partition(cadence, START + timedelta(minutes=100)) == (
        START + timedelta(minutes=85),
        START + timedelta(minutes=175),
    )


def test_cron_windows_follow_the_timezone_across_dst() -> None:
    cadence = parse_schedule_expression("cron(0 2 * * ? *)", timezone="America/New_York")
    ny = ZoneInfo("America/New_York")
    windows = list(
        partition_windows(
            cadence, datetime(2024, 11, 2, 6, tzinfo=UTC), until=datetime(2024, 11, 5, tzinfo=UTC)
        )
    )
    assert [s for s, _ in windows] == [datetime(2024, 11, d, 2, tzinfo=ny) for d in (2, 3)]
    elapsed = [end.astimezone(UTC) - start.astimezone(UTC) for start, end in windows]
    assert elapsed == [timedelta(hours=25), timedelta(hours=24)]  # DST ends on 2024-11-03


def test_fixed_interval_counts_elapsed_time_across_dst() -> None:
    ny = ZoneInfo("America/New_York")
    anchor = datetime(2024, 11, 2, 12, 0, tzinfo=ny)
    cadence = parse_schedule_expression("rate(7 days)", timezone="America/New_York", anchor=anchor)
    (window,) = partition_windows(cadence, anchor, until=anchor + timedelta(days=8))
    assert window[1].astimezone(UTC) - window[0].astimezone(UTC) == timedelta(days=7)


def test_first_partition_start() -> None:
    loaded = datetime(2024, 6, 10, 12, 34, tzinfo=UTC)
    trig = ScheduledTrigger(schedule_expression="rate(1 days)", schedule_start_time=START)
    # 30 days before scheduleStartTime (001 line 19,890), aligned down to the daily 10:17 cadence.
    assert first_partition_start(trig, loaded) == START - timedelta(days=30)
    trig2 = ScheduledTrigger(
        schedule_expression="rate(1 hours)", first_execution_from=datetime(2024, 6, 1, 5, 40, tzinfo=UTC)
    )
    assert first_partition_start(trig2, loaded) == datetime(2024, 6, 1, 5, 0, tzinfo=UTC)
    trig3 = ScheduledTrigger(schedule_expression="rate(1 hours)")
    assert first_partition_start(trig3, loaded) == datetime(2024, 5, 11, 12, 0, tzinfo=UTC)
