"""Rates no cron can state (DESIGN: "still a partition per window"): rate(90 minutes) and rate(7 days)."""

from datetime import UTC, datetime, timedelta

import dagster as dg
import yaml

from appflow_dagster.dagster_defs.factory import definitions_from_folders


def _set_rate(project, expression: str, mode: str = "Incremental") -> None:
    path = project.flows / "opportunity-daily.yaml"
    doc = yaml.safe_load(path.read_text())
    props = doc["triggerConfig"]["triggerProperties"]["Scheduled"]
    props["scheduleExpression"] = expression
    props["dataPullMode"] = mode
    props["scheduleStartTime"] = "2026-01-01T00:10:00Z"
    path.write_text(yaml.safe_dump(doc))


def test_ninety_minute_windows_become_partitions_via_the_window_sensor(demo_env) -> None:
    _set_rate(demo_env, "rate(90 minutes)")
    defs = definitions_from_folders(demo_env.flows, demo_env.connections)
    sensor = defs.resolve_sensor_def("appflow_demo_opportunity_daily_windows_sensor")
    instance = dg.DagsterInstance.ephemeral()
    with dg.build_sensor_context(instance=instance, definitions=defs) as context:
        result = sensor(context)
    assert isinstance(result, dg.SensorResult)
    (add,) = result.dynamic_partitions_requests
    keys = list(add.partition_keys)
    starts = [datetime.strptime(k, "%Y-%m-%dT%H:%M").replace(tzinfo=UTC) for k in keys]
    assert all(b - a == timedelta(minutes=90) for a, b in zip(starts, starts[1:], strict=False))
    assert all(
        (s - datetime(2026, 1, 1, 0, 10, tzinfo=UTC)) % timedelta(minutes=90) == timedelta(0) for s in starts
    )
    (request,) = result.run_requests
    assert request.partition_key == keys[-1] == request.run_key
    assert starts[-1] + timedelta(minutes=90) <= datetime.now(UTC)

    # After downtime, every window that closed since the cursor is run (here: the last three).
    with dg.build_sensor_context(instance=instance, definitions=defs, cursor=keys[-4]) as context:
        caught_up = sensor(context)
    assert [r.partition_key for r in caught_up.run_requests] == keys[-3:]
    assert context.cursor == keys[-1]
    # Nothing new since the cursor: no run.
    with dg.build_sensor_context(instance=instance, definitions=defs, cursor=keys[-1]) as context:
        assert sensor(context).run_requests == []

    instance.add_dynamic_partitions("appflow_demo_opportunity_daily_windows", keys)
    run = defs.resolve_job_def("appflow_demo_opportunity_daily").execute_in_process(
        partition_key=keys[-1], instance=instance
    )
    assert run.success
    meta = run.get_asset_materialization_events()[0].materialization.metadata
    window_start = datetime.fromisoformat(meta["appflow/window_start"].value)
    window_end = datetime.fromisoformat(meta["appflow/window_end"].value)
    assert (window_start, window_end - window_start) == (starts[-1], timedelta(minutes=90))


def test_seven_day_complete_pull_runs_from_the_window_sensor(demo_env) -> None:
    _set_rate(demo_env, "rate(7 days)", mode="Complete")
    defs = definitions_from_folders(demo_env.flows, demo_env.connections)
    assert not [s for s in defs.schedules or [] if "opportunity" in s.name]
    sensor = defs.resolve_sensor_def("appflow_demo_opportunity_daily_windows_sensor")
    with dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral(), definitions=defs) as context:
        (request,) = sensor(context)
    assert isinstance(request, dg.RunRequest) and request.partition_key is None
    start = datetime.strptime(request.run_key, "%Y-%m-%dT%H:%M").replace(tzinfo=UTC)
    assert (start - datetime(2026, 1, 1, 0, 10, tzinfo=UTC)) % timedelta(days=7) == timedelta(0)


def test_list_shows_fixed_interval_partitions(demo_env, capsys) -> None:
    import json

    from appflow_dagster.cli import main

    _set_rate(demo_env, "rate(90 minutes)")
    assert main(["list", "--json"]) == 0
    row = {r["name"]: r for r in json.loads(capsys.readouterr().out)}["demo-opportunity-daily"]
    assert row["partitions"]["cron"] is None and row["partitions"]["interval_s"] == 5400
    assert row["schedule"] is None
    assert row["sensor"] == "appflow_demo_opportunity_daily_windows_sensor"
