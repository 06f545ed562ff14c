"""Flow specs → Dagster definitions: one asset per flow, one external asset per source object,
a job per flow, a schedule per scheduled flow, asset checks per Validate task."""

import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dagster as dg

from appflow_dagster.dagster_defs.execution import (
    SCHEMA_DRIFT_CHECK,
    UNIQUE_IDS_CHECK,
    run_flow,
    validation_check_name,
)
from appflow_dagster.dagster_defs.partitions import (
    FirstSeenStore,
    partitions_for,
    schedule_for,
    window_sensor_for,
)
from appflow_dagster.dagster_defs.resources import AppFlowResource
from appflow_dagster.dagster_defs.translator import AppFlowTranslator, SourceObjectProps, key_part
from appflow_dagster.spec.model import FlowSpec, SpecValidationError


def job_name(flow: FlowSpec) -> str:
    return f"appflow_{key_part(flow.name)}"


def _check_specs(
    key: dg.AssetKey, partitions_def: dg.PartitionsDefinition | None, validations: Sequence[Any]
) -> list[dg.AssetCheckSpec]:
    """One check per Validate task (blocking when it terminates the flow), plus id uniqueness and
    schema drift against the previous run."""
    with warnings.catch_warnings():
        # Partitioned checks are "preview" in Dagster 1.13; a check per partition is what AppFlow's
        # per-run validation means for an incremental flow, so we use them knowingly.
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return _build_check_specs(key, partitions_def, validations)


def _build_check_specs(
    key: dg.AssetKey, partitions_def: dg.PartitionsDefinition | None, validations: Sequence[Any]
) -> list[dg.AssetCheckSpec]:
    specs = [
        dg.AssetCheckSpec(
            validation_check_name(v.task_index, v.field, v.operator),
            asset=key,
            description=f"AppFlow Validate task {v.task_index}: {v.operator} on {v.field} ({v.action})",
            blocking=v.action == "TerminateFlow",
            partitions_def=partitions_def,
        )
        for v in validations
    ]
    specs.append(
        dg.AssetCheckSpec(
            UNIQUE_IDS_CHECK,
            asset=key,
            description="No two records of the run share the source's id field values.",
            partitions_def=partitions_def,
        )
    )
    specs.append(
        dg.AssetCheckSpec(
            SCHEMA_DRIFT_CHECK,
            asset=key,
            description="Columns and types match the previous materialization's.",
            partitions_def=partitions_def,
        )
    )
    return specs


def build_flow_asset(
    flow: FlowSpec,
    translator: AppFlowTranslator,
    partitions_def: dg.PartitionsDefinition | None,
    validations: Sequence[Any] = (),
) -> dg.AssetsDefinition:
    spec = translator.get_asset_spec(flow)
    if partitions_def is not None:
        spec = spec.replace_attributes(partitions_def=partitions_def)

    @dg.multi_asset(
        name=job_name(flow) + "_transfer",
        specs=[spec],
        check_specs=_check_specs(spec.key, partitions_def, validations),
        pool=f"appflow_{key_part(flow.source.connector_type.lower())}",
    )
    def _flow_asset(context: dg.AssetExecutionContext, appflow: AppFlowResource):
        yield from run_flow(context, flow, appflow, validations)

    return _flow_asset


def build_definitions(
    flows: Sequence[FlowSpec],
    resource: AppFlowResource,
    translator: AppFlowTranslator | None = None,
    first_seen: FirstSeenStore | None = None,
) -> dg.Definitions:
    from appflow_dagster.engine.preflight import compile_flows

    pipelines, errors = compile_flows(flows)
    if errors:
        raise SpecValidationError(errors)
    translator = translator or AppFlowTranslator()
    first_seen = first_seen or FirstSeenStore()
    sources: dict[dg.AssetKey, dg.AssetSpec] = {}
    assets: list[dg.AssetsDefinition] = []
    jobs: list[Any] = []
    schedules: list[dg.ScheduleDefinition] = []
    sensors: list[dg.SensorDefinition] = []
    for flow in flows:
        src = translator.get_source_asset_spec(
            SourceObjectProps(
                flow.source.connector_type, flow.source.object, flow.source.connector_profile_name
            )
        )
        sources.setdefault(src.key, src)
        partitions_def = partitions_for(flow, first_seen)
        asset = build_flow_asset(flow, translator, partitions_def, pipelines[flow.name].validations)
        assets.append(asset)
        job = dg.define_asset_job(
            job_name(flow),
            selection=dg.AssetSelection.assets(asset),
            partitions_def=partitions_def,
            description=f"Run AppFlow flow {flow.name}",
        )
        jobs.append(job)
        schedule = schedule_for(flow, job, partitioned=partitions_def is not None)
        if schedule is not None:
            schedules.append(schedule)
        sensor = window_sensor_for(flow, job, first_seen)
        if sensor is not None:
            sensors.append(sensor)
    return dg.Definitions(
        assets=[*sources.values(), *assets],
        jobs=jobs,
        schedules=schedules,
        sensors=sensors,
        resources={"appflow": resource},
    )


def definitions_from_folders(
    flows_path: str | Path, connections_path: str | Path, translator: AppFlowTranslator | None = None
) -> dg.Definitions:
    """Load every flow under ``flows_path`` (errors of all files at once) and build definitions."""
    from appflow_dagster.dagster_defs.resources import resource_from_env
    from appflow_dagster.spec.parse import load_flows

    path = Path(flows_path)
    flows = load_flows([path]) if path.exists() else []
    return build_definitions(flows, resource_from_env(str(connections_path)), translator)
