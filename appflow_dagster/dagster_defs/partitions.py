"""Triggers → partitions and schedules.

A scheduled incremental flow gets time-window partitions whose windows are AppFlow's pull windows
(before ``scheduleOffset``); a complete-pull flow gets a plain cron schedule.
"""

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg

from appflow_dagster.dagster_defs.translator import key_part
from appflow_dagster.spec import schedule as sched
from appflow_dagster.spec.model import FlowSpec


class FirstSeenStore:
    """When each flow was first loaded: AppFlow's default first window is 30 days before activation,
    which must not move on every reload. Kept as JSON under ``APPFLOW_STATE_DIR``
    (default ``$DAGSTER_HOME/appflow`` or ``./.appflow_state``)."""

    def __init__(self, directory: Path | None = None):
        if directory is None:
            env = os.environ.get("APPFLOW_STATE_DIR")
            home = os.environ.get("DAGSTER_HOME")
            directory = Path(env) if env else (Path(home) / "appflow" if home else Path(".appflow_state"))
        self.path = directory / "first_seen.json"
        self._data: dict[str, str] | None = None

    def _load(self) -> dict[str, str]:
        if self._data is None:
            try:
                self._data = json.loads(self.path.read_text()) if self.path.exists() else {}
            except (OSError, ValueError):
                self._data = {}
        return self._data

    def get(self, flow_name: str, now: datetime | None = None) -> datetime:
        data = self._load()
        if flow_name not in data:
            data[flow_name] = (now or datetime.now(UTC)).replace(microsecond=0).isoformat()
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                tmp = self.path.with_suffix(".tmp")
                tmp.write_text(json.dumps(data, indent=2, sort_keys=True))
                os.replace(tmp, self.path)
            except OSError:
                pass  # read-only deployments still load; the default start then follows load time
        return datetime.fromisoformat(data[flow_name])


def _fmt(cron: str) -> str:
    minute, hour, *_ = cron.split()
    return "%Y-%m-%d" if (minute, hour) == ("0", "0") else "%Y-%m-%d-%H:%M"


#: After sensor downtime, at most this many missed windows are run (older ones: backfill them).
MAX_CATCHUP_WINDOWS = 24
#: Partition keys of fixed-interval windows (``rate(90 minutes)``): the window start, UTC.
WINDOW_KEY_FMT = "%Y-%m-%dT%H:%M"


def partitions_for(flow: FlowSpec, first_seen: FirstSeenStore) -> dg.PartitionsDefinition | None:
    """Partitions for a scheduled incremental flow; None otherwise.

    A cadence a cron can state gets time-window partitions. A rate no cron can state
    (``rate(90 minutes)``, ``rate(7 days)``) still gets one partition per window, so the partition
    stays the pull window: dynamic partitions keyed by the window start, added by the flow's
    window sensor as windows close (see :func:`window_sensor_for`).
    """
    trig = flow.trigger.scheduled
    if not flow.is_incremental or trig is None:
        return None
    cadence = sched.cadence_for_trigger(trig)
    if cadence.cron is None:
        return dg.DynamicPartitionsDefinition(name=f"appflow_{key_part(flow.name)}_windows")
    start = sched.first_partition_start(trig, loaded_at=first_seen.get(flow.name))
    return dg.TimeWindowPartitionsDefinition(
        start=start,
        end=trig.schedule_end_time,
        cron_schedule=cadence.cron,
        fmt=_fmt(cadence.cron),
        timezone=trig.timezone or "UTC",
    )


def schedule_for(flow: FlowSpec, job: Any, partitioned: bool) -> dg.ScheduleDefinition | None:
    trig = flow.trigger.scheduled
    if flow.trigger.trigger_type != "Scheduled" or trig is None:
        return None
    name = f"{job.name}_schedule"
    if partitioned and sched.cadence_for_trigger(trig).cron is not None:
        return dg.build_schedule_from_partitioned_job(job, name=name)  # type: ignore[return-value]
    cadence = sched.cadence_for_trigger(trig)
    if cadence.cron is None:
        return None  # a window sensor runs it (window_sensor_for)
    return dg.ScheduleDefinition(
        name=name, job=job, cron_schedule=cadence.cron, execution_timezone=trig.timezone or "UTC"
    )


def window_of_key(flow: FlowSpec, key: str) -> tuple[datetime, datetime]:
    """The ``[start, end)`` partition window of a fixed-interval partition key (before the offset)."""
    trig = flow.trigger.scheduled
    assert trig is not None
    cadence = sched.cadence_for_trigger(trig)
    assert cadence.fixed_interval is not None
    start = datetime.strptime(key, WINDOW_KEY_FMT).replace(tzinfo=UTC)
    return start, start + cadence.fixed_interval


def window_sensor_for(flow: FlowSpec, job: Any, first_seen: FirstSeenStore) -> dg.SensorDefinition | None:
    """For rates no cron can state: a sensor that fires at each window's end, anchored where AppFlow
    anchors the rate (``scheduleStartTime``). Incremental flows get the window added as a partition
    and a run of it; complete pulls get a run. ``run_key`` is the window start, so a window runs once."""
    trig = flow.trigger.scheduled
    if flow.trigger.trigger_type != "Scheduled" or trig is None:
        return None
    cadence = sched.cadence_for_trigger(trig)
    if cadence.cron is not None:
        return None
    incremental = flow.is_incremental
    first = sched.first_partition_start(trig, loaded_at=first_seen.get(flow.name)) if incremental else None
    name = f"{job.name}_windows_sensor"

    @dg.sensor(
        name=name,
        job=job,
        minimum_interval_seconds=60,
        description=f"Runs {flow.name} every {trig.schedule_expression}",
    )
    def _sensor(context: dg.SensorEvaluationContext):
        now = datetime.now(UTC)
        if trig.schedule_end_time is not None and now > trig.schedule_end_time:
            now = trig.schedule_end_time
        last_fire = sched.align_down(cadence, now)
        if incremental:
            assert first is not None
            windows = [s for s, _ in sched.partition_windows(cadence, first, until=last_fire)]
        else:
            windows = [last_fire - cadence.fixed_interval]  # type: ignore[operator]
        keys = [w.astimezone(UTC).strftime(WINDOW_KEY_FMT) for w in windows]
        # Windows that closed since the last tick: all of them after downtime (up to
        # MAX_CATCHUP_WINDOWS), only the latest on the first tick, as a schedule would.
        due = [k for k in keys if context.cursor is not None and k > context.cursor][-MAX_CATCHUP_WINDOWS:]
        due = due or ([keys[-1]] if keys and keys[-1] != context.cursor else [])
        if due:
            context.update_cursor(due[-1])
        if not incremental:
            return [dg.RunRequest(run_key=k) for k in due]
        pdef = job.partitions_def
        existing = set(context.instance.get_dynamic_partitions(pdef.name))
        new = [k for k in keys if k not in existing]
        return dg.SensorResult(
            run_requests=[dg.RunRequest(run_key=k, partition_key=k) for k in due],
            dynamic_partitions_requests=[pdef.build_add_request(new)] if new else [],
        )

    return _sensor
