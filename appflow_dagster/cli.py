"""``appflow-dagster``: validate, list and run flows; serve the sandbox."""

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console

err = Console(stderr=True)
out = Console()


def _flows_dir() -> str:
    return os.environ.get("APPFLOW_FLOWS_DIR", "flows")


def _connections_dir() -> str:
    return os.environ.get("APPFLOW_CONNECTIONS_DIR", "connections")


def cmd_validate(args: argparse.Namespace) -> int:
    from appflow_dagster.spec.parse import load_all

    paths = args.paths or [p for p in (_flows_dir(), _connections_dir()) if Path(p).exists()]
    missing = [p for p in paths if not Path(p).exists()]
    for p in missing:
        print(f"{p}: no such file or directory", file=sys.stderr)
    flows, _, errors = load_all([p for p in paths if Path(p).exists()])
    if not errors:
        from appflow_dagster.engine.preflight import task_errors

        errors = task_errors(flows)
    for e in errors:
        print(str(e), file=sys.stderr)
    if errors or missing:
        return 2
    print(f"ok: {', '.join(str(p) for p in paths)}")
    return 0


def _load_flows() -> list[Any]:
    from appflow_dagster.spec.parse import load_flows

    path = Path(_flows_dir())
    return load_flows([path]) if path.exists() else []


def _definitions(flows: list[Any]) -> Any:
    """The code location's definitions for already-parsed flows (each file is read once)."""
    from appflow_dagster.dagster_defs.factory import build_definitions
    from appflow_dagster.dagster_defs.resources import resource_from_env

    return build_definitions(flows, resource_from_env(_connections_dir()))


def flow_summary(flow: Any, defs: Any) -> dict[str, Any]:
    """One row of ``list --json``."""
    import dagster as dg

    from appflow_dagster.dagster_defs.factory import job_name
    from appflow_dagster.dagster_defs.translator import AppFlowTranslator

    key = AppFlowTranslator().get_asset_spec(flow).key
    asset = defs.resolve_assets_def(key)
    pdef = asset.partitions_def
    partitions: dict[str, Any] | None = None
    if isinstance(pdef, dg.TimeWindowPartitionsDefinition):
        partitions = {
            "start": pdef.start.isoformat(),
            "cron": pdef.cron_schedule,
            "interval_s": None,
            "timezone": pdef.timezone,
            "format": pdef.fmt,
        }
    elif pdef is not None and flow.trigger.scheduled is not None:  # a rate no cron can state
        from appflow_dagster.dagster_defs.partitions import WINDOW_KEY_FMT, FirstSeenStore
        from appflow_dagster.spec import schedule as sched

        trig = flow.trigger.scheduled
        interval = sched.cadence_for_trigger(trig).fixed_interval
        partitions = {
            "start": sched.first_partition_start(trig, FirstSeenStore().get(flow.name)).isoformat(),
            "cron": None,
            "interval_s": interval.total_seconds() if interval else None,
            "timezone": "UTC",
            "format": WINDOW_KEY_FMT,
        }
    schedule = None
    names = {s.name for s in defs.schedules or []}
    if f"{job_name(flow)}_schedule" in names:
        schedule = defs.resolve_schedule_def(f"{job_name(flow)}_schedule").cron_schedule
    dest = flow.destination
    return {
        "name": flow.name,
        "file": flow.file,
        "asset_key": key.to_user_string(),
        "source": {
            "connector": flow.source.connector_type,
            "object": flow.source.object,
            "connection": flow.source.connector_profile_name,
        },
        "destination": {
            "connector": dest.connector_type,
            "bucket": dest.bucket_name,
            "prefix": dest.bucket_prefix,
            "file_type": dest.output_format.file_type,
        },
        "trigger": flow.trigger.trigger_type,
        "partitions": partitions,
        "schedule": schedule,
        "sensor": f"{job_name(flow)}_windows_sensor"
        if any(x.name == f"{job_name(flow)}_windows_sensor" for x in defs.sensors or [])
        else None,
        "job": job_name(flow),
    }


def cmd_list(args: argparse.Namespace) -> int:
    from appflow_dagster.spec.model import SpecValidationError

    try:
        flows = _load_flows()
        defs = _definitions(flows)
    except SpecValidationError as exc:
        for e in exc.errors:
            print(str(e), file=sys.stderr)
        return 2
    rows = [flow_summary(f, defs) for f in flows]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    from rich.table import Table

    table = Table("flow", "asset", "source", "destination", "trigger", "partitions", "schedule")
    for r in rows:
        p = r["partitions"]
        table.add_row(
            r["name"],
            r["asset_key"],
            f"{r['source']['connector']} {r['source']['object']}",
            f"{r['destination']['connector']} {r['destination']['bucket']} ({r['destination']['file_type']})",
            r["trigger"],
            f"{p['start']} / {p['cron'] or str(p['interval_s']) + ' s'}" if p else "-",
            r["schedule"] or "-",
        )
    out.print(table)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    import dagster as dg
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from appflow_dagster.dagster_defs import execution
    from appflow_dagster.dagster_defs.factory import job_name
    from appflow_dagster.spec.model import SpecValidationError

    try:
        flow_list = _load_flows()
        flows = {f.name: f for f in flow_list}
        defs = _definitions(flow_list)
    except SpecValidationError as exc:
        for e in exc.errors:
            print(str(e), file=sys.stderr)
        return 2
    if args.flow not in flows:
        print(f"unknown flow {args.flow!r}; known: {', '.join(sorted(flows)) or 'none'}", file=sys.stderr)
        return 2
    flow = flows[args.flow]
    job = defs.resolve_job_def(job_name(flow))
    if job.partitions_def is not None and args.partition is None:
        print(f"flow {flow.name} is partitioned: pass --partition KEY", file=sys.stderr)
        return 2
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    started = time.monotonic()
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err, transient=True
    ) as progress:
        task = progress.add_task(f"{flow.name}: starting", total=None)

        def on_progress(read: int, written: int) -> None:
            progress.update(task, description=f"{flow.name}: read {read:,}  written {written:,}")

        execution.progress_callback = on_progress
        try:
            level = "DEBUG" if args.verbose else "CRITICAL"  # the summary below says what failed
            result = job.execute_in_process(
                instance=instance,
                partition_key=args.partition,
                raise_on_error=False,
                run_config={"loggers": {"console": {"config": {"log_level": level}}}},
            )
        finally:
            execution.progress_callback = None
    duration = time.monotonic() - started
    if not result.success:
        print(f"{flow.name}: failed (run {result.run_id}): {_failure_reason(result)}", file=sys.stderr)
        return 1
    mats = result.get_asset_materialization_events()
    meta = {k: v.value for k, v in mats[0].materialization.metadata.items()} if mats else {}
    summary = {
        "flow": flow.name,
        "run_id": result.run_id,
        "partition": args.partition,
        "records_read": meta.get("appflow/records_read"),
        "records_written": meta.get("appflow/records_written"),
        "records_dropped": meta.get("appflow/records_dropped"),
        "records_failed": meta.get("appflow/records_failed"),
        "files": meta.get("appflow/files"),
        "bytes": meta.get("appflow/bytes_written"),
        "uri": meta.get("dagster/uri"),
        "duration_s": round(duration, 2),
    }
    if args.json:
        print(json.dumps(summary))
    else:
        out.print(
            f"[bold green]{flow.name}[/] read {summary['records_read']:,} · wrote {summary['records_written']:,} · "
            f"dropped {summary['records_dropped']:,} · failed {summary['records_failed']:,} · "
            f"{summary['files']} files · {summary['bytes']:,} bytes · {summary['duration_s']} s\n→ {summary['uri']}"
        )
    return 0


def _failure_reason(result: Any) -> str:
    """The innermost error of the failed step: what went wrong, not Dagster's wrapper."""
    for event in result.all_events:
        error = getattr(event.event_specific_data, "error", None) if event.is_step_failure else None
        if error is not None:
            while error.cause is not None:
                error = error.cause
            return error.message.strip()
    return "see the run's logs"


def cmd_sandbox(args: argparse.Namespace) -> int:
    from appflow_dagster.sandbox.salesforce import serve

    serve(args.host, args.port, args.seed, args.records)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="appflow-dagster", description="AppFlow flows on Dagster")
    sub = p.add_subparsers(dest="command", required=True)
    v = sub.add_parser("validate", help="validate flow and connection files (exit 2 on errors)")
    v.add_argument("paths", nargs="*", help="files or folders (default: the flows and connections folders)")
    v.set_defaults(fn=cmd_validate)
    ls = sub.add_parser("list", help="list flows with their assets, triggers and partitions")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(fn=cmd_list)
    r = sub.add_parser("run", help="materialize one flow in-process")
    r.add_argument("flow")
    r.add_argument("--partition", help="partition key (scheduled incremental flows)")
    r.add_argument("--json", action="store_true", help="print the summary as JSON")
    r.add_argument("-v", "--verbose", action="store_true", help="show Dagster's event log")
    r.set_defaults(fn=cmd_run)
    s = sub.add_parser("sandbox", help="serve the Salesforce API sandbox")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8765)
    s.add_argument("--seed", type=int, default=7)
    s.add_argument("--records", type=int, default=10_000)
    s.set_defaults(fn=cmd_sandbox)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.fn(args))


if __name__ == "__main__":
    sys.exit(main())
