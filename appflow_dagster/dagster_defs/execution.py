"""What a flow asset does when it materializes: one transfer, its metadata and its check results."""

from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from typing import Any

import dagster as dg
import pyarrow as pa

from appflow_dagster.connectors.base import Window
from appflow_dagster.dagster_defs.partitions import window_of_key
from appflow_dagster.dagster_defs.resources import AppFlowResource
from appflow_dagster.engine.checks import schema_changes
from appflow_dagster.engine.tasks import ValidationStat
from appflow_dagster.spec.model import FlowSpec

#: Set by the CLI to draw a progress bar for in-process runs: ``(records_read, records_written)``.
progress_callback: Callable[[int, int], None] | None = None

_ARROW_TO_TABLE_TYPE = (
    (pa.types.is_boolean, "boolean"),
    (pa.types.is_integer, "integer"),
    (pa.types.is_floating, "float"),
    (pa.types.is_timestamp, "timestamp"),
    (pa.types.is_date, "date"),
    (pa.types.is_string, "string"),
    (pa.types.is_large_string, "string"),
)


def column_schema(schema: pa.Schema) -> dg.TableSchema:
    def kind(t: pa.DataType) -> str:
        return next((name for pred, name in _ARROW_TO_TABLE_TYPE if pred(t)), str(t))

    return dg.TableSchema(columns=[dg.TableColumn(f.name, kind(f.type)) for f in schema])


def pull_window(flow: FlowSpec, context: dg.AssetExecutionContext) -> Window | None:
    """The partition's time window shifted back by ``scheduleOffset`` (001, "Schedule-triggered flows")."""
    if not context.has_partition_key:
        return None
    if isinstance(context.assets_def.partitions_def, dg.DynamicPartitionsDefinition):
        start, end = window_of_key(flow, context.partition_key)  # rate() no cron can state
    else:
        tw = context.partition_time_window
        start, end = tw.start, tw.end
    offset = timedelta(seconds=flow.trigger.scheduled.schedule_offset if flow.trigger.scheduled else 0)
    return Window(start=start - offset, end=end - offset)


def run_flow(
    context: dg.AssetExecutionContext,
    flow: FlowSpec,
    appflow: AppFlowResource,
    validations: Sequence[Any] = (),
) -> Iterator[Any]:
    """Transfer the flow's (window of) records and report what landed, with a result for every
    declared check (``validations``: the flow's Validate tasks, as compiled at load)."""
    from appflow_dagster.engine.tasks import FlowTerminated
    from appflow_dagster.engine.transfer import run_transfer

    window = pull_window(flow, context)
    partition_key = context.partition_key if context.has_partition_key else None
    if window:
        context.log.info(f"pull window [{window.start.isoformat()}, {window.end.isoformat()})")
    connector = appflow.get_connector(flow.source.connector_type, flow.source.connector_profile_name)
    try:
        result = run_transfer(
            flow,
            connector,
            execution_id=context.run.run_id,
            window=window,
            partition_key=partition_key,
            store_resolver=appflow.store_resolver(),
            on_progress=progress_callback,
        )
    except FlowTerminated as exc:
        stat = exc.stat
        yield dg.AssetCheckResult(
            passed=False,
            check_name=validation_check_name(stat.task_index, stat.field, stat.operator),
            metadata=_validation_metadata(stat),
        )
        raise
    finally:
        connector.close()

    previous_schema = _previous_schema(context)
    current = {f.name: str(f.type) for f in result.schema}
    meta: dict[str, Any] = {
        "dagster/row_count": result.records_written,
        "dagster/column_schema": column_schema(result.schema),
        "dagster/uri": result.output_uri,
        "appflow/execution_id": result.execution_id,
        "appflow/records_read": result.records_read,
        "appflow/records_written": result.records_written,
        "appflow/records_dropped": result.records_dropped,
        "appflow/records_failed": result.records_failed,
        "appflow/files": len(result.files),
        "appflow/bytes_written": result.bytes_written,
        "appflow/duration_s": round(result.duration_s, 3),
        "appflow/arrow_schema": dg.MetadataValue.json(current),
    }
    if partition_key is not None:
        meta["dagster/partition_row_count"] = result.records_written
    if window:
        meta["appflow/window_start"] = window.start.isoformat()
        meta["appflow/window_end"] = window.end.isoformat()
    if result.schema_version is not None:
        meta["appflow/schema_version"] = result.schema_version
    context.log.info(
        f"{flow.name}: read {result.records_read}, wrote {result.records_written} records "
        f"in {len(result.files)} files to {result.output_uri}"
    )
    yield dg.MaterializeResult(metadata=meta)
    stats = {s.task_index: s for s in result.validations}
    for v in validations:  # a source that yielded no batch still gets every declared check
        stats.setdefault(v.task_index, ValidationStat(v.task_index, v.field, v.operator, v.action, 0, 0, 0))
    for stat in stats.values():
        yield dg.AssetCheckResult(
            passed=stat.failed == 0,
            check_name=validation_check_name(stat.task_index, stat.field, stat.operator),
            metadata=_validation_metadata(stat),
            severity=dg.AssetCheckSeverity.WARN,
        )
    yield dg.AssetCheckResult(
        check_name=UNIQUE_IDS_CHECK,
        passed=result.duplicate_ids == 0,
        metadata={
            "appflow/id_fields": ", ".join(result.id_fields) or "(no id field reaches the destination)",
            "appflow/records_checked": result.records_written if result.id_fields else 0,
            "appflow/duplicate_ids": result.duplicate_ids,
        },
    )
    changes = schema_changes(previous_schema, current) if previous_schema is not None else None
    yield dg.AssetCheckResult(
        check_name=SCHEMA_DRIFT_CHECK,
        passed=not changes or not any(changes.values()),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "appflow/previous_run": "none" if previous_schema is None else "compared",
            **{f"appflow/columns_{k}": ", ".join(v) or "-" for k, v in (changes or {}).items()},
        },
    )


UNIQUE_IDS_CHECK = "unique_ids"
SCHEMA_DRIFT_CHECK = "schema_drift"


def _previous_schema(context: dg.AssetExecutionContext) -> dict[str, str] | None:
    """``name → arrow type`` of the asset's last materialization, from its metadata."""
    event = context.instance.get_latest_materialization_event(context.asset_key)
    mat = event.asset_materialization if event is not None else None
    if mat is None or "appflow/arrow_schema" not in mat.metadata:
        return None
    value = mat.metadata["appflow/arrow_schema"].value
    return dict(value) if isinstance(value, dict) else None


def validation_check_name(task_index: int, field: str, operator: str) -> str:
    from appflow_dagster.dagster_defs.translator import key_part

    return key_part(f"validate_{task_index}_{field}_{operator.lower()}")


def _validation_metadata(stat: Any) -> dict[str, Any]:
    return {
        "appflow/records_checked": stat.checked,
        "appflow/records_failed": stat.failed,
        "appflow/records_dropped": stat.dropped,
        "appflow/validation_action": stat.action,
    }
