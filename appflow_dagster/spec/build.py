"""Build the typed :class:`FlowSpec` from a validated CreateFlow document (defaults as AppFlow's)."""

from collections.abc import Mapping
from typing import Any, cast

from appflow_dagster.spec.botocore_model import parse_timestamp
from appflow_dagster.spec.model import (
    AggregationConfig,
    Destination,
    ErrorHandling,
    FlowSpec,
    OutputFormat,
    PrefixConfig,
    ScheduledTrigger,
    Source,
    Task,
    Trigger,
)


def _m(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _connector_props(container: Any, connector: str) -> Mapping[str, Any]:
    """``{"Salesforce": {...}}`` → the properties of ``connector`` (keys match case-insensitively)."""
    c = _m(container)
    for key, value in c.items():
        if str(key).lower() == connector.lower():
            return _m(value)
    return _m(next(iter(c.values()))) if len(c) == 1 else {}


def build_task(doc: Mapping[str, Any]) -> Task:
    op = _m(doc.get("connectorOperator"))
    operator = next(iter(op.values())) if op else None
    return Task(
        task_type=str(doc["taskType"]),
        source_fields=tuple(str(f) for f in doc.get("sourceFields") or ()),
        connector_operator=str(operator) if operator is not None else None,
        destination_field=doc.get("destinationField"),
        task_properties={str(k): str(v) for k, v in _m(doc.get("taskProperties")).items()},
    )


def build_trigger(doc: Mapping[str, Any]) -> Trigger:
    tc = _m(doc.get("triggerConfig"))
    s = _m(_m(tc.get("triggerProperties")).get("Scheduled"))
    scheduled = None
    if tc.get("triggerType") == "Scheduled" and s:
        scheduled = ScheduledTrigger(
            schedule_expression=str(s["scheduleExpression"]),
            data_pull_mode=cast(Any, s.get("dataPullMode") or "Incremental"),
            schedule_start_time=parse_timestamp(s["scheduleStartTime"])
            if s.get("scheduleStartTime") is not None
            else None,
            schedule_end_time=parse_timestamp(s["scheduleEndTime"])
            if s.get("scheduleEndTime") is not None
            else None,
            timezone=str(s.get("timezone") or "UTC"),
            schedule_offset=int(s.get("scheduleOffset") or 0),
            first_execution_from=(
                parse_timestamp(s["firstExecutionFrom"]) if s.get("firstExecutionFrom") is not None else None
            ),
            flow_error_deactivation_threshold=s.get("flowErrorDeactivationThreshold"),
        )
    return Trigger(trigger_type=cast(Any, tc.get("triggerType")), scheduled=scheduled)


def build_destination(doc: Mapping[str, Any]) -> Destination:
    connector = str(doc["connectorType"])
    props = _connector_props(doc.get("destinationConnectorProperties"), connector)
    fmt = _m(props.get("s3OutputFormatConfig"))
    prefix = _m(fmt.get("prefixConfig"))
    agg = _m(fmt.get("aggregationConfig"))
    err = _m(props.get("errorHandlingConfig"))
    return Destination(
        connector_type=connector,
        connector_profile_name=doc.get("connectorProfileName"),
        bucket_name=str(props.get("bucketName") or ""),
        bucket_prefix=props.get("bucketPrefix"),
        output_format=OutputFormat(
            file_type=cast(Any, fmt.get("fileType") or "JSON"),
            prefix_config=PrefixConfig(
                prefix_type=prefix.get("prefixType"),
                prefix_format=prefix.get("prefixFormat"),
                path_prefix_hierarchy=tuple(prefix.get("pathPrefixHierarchy") or ()),
            ),
            aggregation_config=AggregationConfig(
                aggregation_type=cast(Any, agg.get("aggregationType") or "None"),
                target_file_size=agg.get("targetFileSize"),
            ),
            preserve_source_data_typing=bool(fmt.get("preserveSourceDataTyping", False)),
        ),
        error_handling=(
            ErrorHandling(
                fail_on_first_destination_error=bool(err.get("failOnFirstDestinationError", False)),
                bucket_name=err.get("bucketName"),
                bucket_prefix=err.get("bucketPrefix"),
            )
            if err
            else None
        ),
        properties=dict(props),
    )


def build_flow(doc: Mapping[str, Any], file: str) -> FlowSpec:
    """``doc`` must already be valid (model and rules)."""
    src = _m(doc.get("sourceFlowConfig"))
    connector = str(src["connectorType"])
    sprops = _connector_props(src.get("sourceConnectorProperties"), connector)
    source = Source(
        connector_type=connector,
        connector_profile_name=src.get("connectorProfileName"),
        object=str(sprops.get("object") or sprops.get("entityName") or sprops.get("objectPath") or ""),
        properties=dict(sprops),
        datetime_type_field_name=_m(src.get("incrementalPullConfig")).get("datetimeTypeFieldName"),
    )
    return FlowSpec(
        name=str(doc["flowName"]),
        source=source,
        destinations=tuple(build_destination(_m(d)) for d in doc.get("destinationFlowConfigList") or ()),
        tasks=tuple(build_task(_m(t)) for t in doc.get("tasks") or ()),
        trigger=build_trigger(doc),
        description=doc.get("description"),
        tags={str(k): str(v) for k, v in _m(doc.get("tags")).items()},
        file=file,
        document=doc,
    )
