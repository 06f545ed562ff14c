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

    def get(self, flow_name: str, now: datetime | None = None) -> datetime:
        data: dict[str, str] = {}
        if self.path.exists():
            try:
                data = json.loads(self.path.read_text())
            except (OSError, ValueError):
                data = {}
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


def partitions_for(flow: FlowSpec, first_seen: FirstSeenStore) -> dg.PartitionsDefinition | None:
    """Time-window partitions for a scheduled incremental flow; None otherwise."""
    trig = flow.trigger.scheduled
    if not flow.is_incremental or trig is None:
        return None
    cadence = sched.cadence_for_trigger(trig)
    if cadence.cron is None:
        raise ValueError(
            f"{flow.file}: triggerConfig.triggerProperties.Scheduled.scheduleExpression: "
            f"{trig.schedule_expression!r} has no cron equivalent; not supported for incremental flows yet"
        )
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
    if partitioned:
        return dg.build_schedule_from_partitioned_job(job, name=name)  # type: ignore[return-value]
    cadence = sched.cadence_for_trigger(trig)
    if cadence.cron is None:
        raise ValueError(
            f"{flow.file}: triggerConfig.triggerProperties.Scheduled.scheduleExpression: "
            f"{trig.schedule_expression!r} has no cron equivalent; not supported yet"
        )
    return dg.ScheduleDefinition(
        name=name, job=job, cron_schedule=cadence.cron, execution_timezone=trig.timezone or "UTC"
    )
