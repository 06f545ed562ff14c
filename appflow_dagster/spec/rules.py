"""Rules of the AppFlow guide that the service model cannot express.

Each rule cites the seed file and line it comes from (``001`` is the current user guide,
``/work/shared/seeds/001_b83bfaf8aa9d7114.txt``). Rules read the camelCase CreateFlow document and
tolerate wrongly typed members (the model validation reports those).
"""

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from appflow_dagster.spec.botocore_model import Problem, parse_timestamp
from appflow_dagster.spec.model import SUPPORTED_DESTINATIONS, SUPPORTED_SOURCES
from appflow_dagster.spec.schedule import ScheduleParseError, parse_schedule_expression

SCHEDULED = "triggerConfig.triggerProperties.Scheduled"
MAX_PARTITION_KEYS = 10
MAX_SCHEDULE_OFFSET = 36000
VALIDATION_ACTIONS = ("DropRecord", "TerminateFlow")

# 001 lines 21,584-21,605 ("Flow frequency"): AppFlow runs scheduled flows at most once per minute,
# and some sources allow less.
MIN_SCHEDULE_INTERVAL: Mapping[str, timedelta] = {
    "S3": timedelta(minutes=1),
    "Amplitude": timedelta(days=1),
    "Datadog": timedelta(minutes=1),
    "Dynatrace": timedelta(minutes=1),
    "Googleanalytics": timedelta(days=1),
    "Infornexus": timedelta(minutes=1),
    "Marketo": timedelta(hours=1),
    "Salesforce": timedelta(minutes=1),  # also 001 line 14,295
    "Pardot": timedelta(minutes=1),
    "Servicenow": timedelta(minutes=1),
    "Singular": timedelta(hours=1),
    "Slack": timedelta(minutes=1),
    "Trendmicro": timedelta(hours=1),
    "Veeva": timedelta(minutes=1),
    "Zendesk": timedelta(minutes=1),
}

_COMPARISONS = {
    "LESS_THAN",
    "GREATER_THAN",
    "LESS_THAN_OR_EQUAL_TO",
    "GREATER_THAN_OR_EQUAL_TO",
    "EQUAL_TO",
    "NOT_EQUAL_TO",
    "CONTAINS",
}


def _get(doc: Any, *keys: str | int) -> Any:
    for k in keys:
        if isinstance(k, int):
            if not isinstance(doc, list) or k >= len(doc):
                return None
            doc = doc[k]
        else:
            if not isinstance(doc, Mapping):
                return None
            doc = doc.get(k)
    return doc


def _human(td: timedelta) -> str:
    if td % timedelta(days=1) == timedelta(0):
        return "day" if td.days == 1 else f"{td.days} days"
    if td % timedelta(hours=1) == timedelta(0):
        h = td // timedelta(hours=1)
        return "hour" if h == 1 else f"{h} hours"
    m = td // timedelta(minutes=1)
    return "minute" if m == 1 else f"{m} minutes"


def check_flow(doc: Mapping[str, Any]) -> list[Problem]:
    """Every rule violation of one CreateFlow document."""
    problems: list[Problem] = []
    problems += _connectors(doc)
    problems += _trigger(doc)
    tasks = doc.get("tasks")
    if isinstance(tasks, list):
        for i, task in enumerate(tasks):
            if isinstance(task, Mapping):
                problems += _task(i, task, doc)
    return problems


def _connectors(doc: Mapping[str, Any]) -> list[Problem]:
    out: list[Problem] = []
    source = _get(doc, "sourceFlowConfig", "connectorType")
    if isinstance(source, str) and source not in SUPPORTED_SOURCES:
        out.append(
            (
                "sourceFlowConfig.connectorType",
                f"source connector '{source}' is not supported yet; supported: {', '.join(sorted(SUPPORTED_SOURCES))}",
            )
        )
    props = _get(doc, "sourceFlowConfig", "sourceConnectorProperties")
    if isinstance(source, str) and isinstance(props, Mapping) and props:
        keys = [k for k in props if str(k).lower() == source.lower()]
        if not keys:
            out.append(
                (
                    "sourceFlowConfig.sourceConnectorProperties",
                    f"must hold the properties of the source connector '{source}'",
                )
            )
    dests = doc.get("destinationFlowConfigList")
    if isinstance(dests, list):
        s3 = 0
        for i, d in enumerate(dests):
            ctype = _get(d, "connectorType")
            if isinstance(ctype, str) and ctype not in SUPPORTED_DESTINATIONS:
                out.append(
                    (
                        f"destinationFlowConfigList[{i}].connectorType",
                        f"destination connector '{ctype}' is not supported yet; supported: "
                        f"{', '.join(sorted(SUPPORTED_DESTINATIONS))}",
                    )
                )
            if ctype == "S3":
                s3 += 1
                if s3 > 1:
                    # AppFlow allows exactly one S3 destination per flow (model.FlowSpec.destination).
                    out.append(
                        (f"destinationFlowConfigList[{i}]", "a flow can have at most one S3 destination")
                    )
        if not dests:
            out.append(("destinationFlowConfigList", "must have at least 1 destination"))
    return out


def _trigger(doc: Mapping[str, Any]) -> list[Problem]:
    out: list[Problem] = []
    ttype = _get(doc, "triggerConfig", "triggerType")
    sched = _get(doc, "triggerConfig", "triggerProperties", "Scheduled")
    if ttype != "Scheduled":
        return out
    if not isinstance(sched, Mapping):
        # 001 line 19,878: "Amazon AppFlow runs schedule-triggered flows based on the schedule that you specify"
        out.append((SCHEDULED, "is required when triggerType is Scheduled"))
        return out
    mode = sched.get("dataPullMode", "Incremental")
    field = _get(doc, "sourceFlowConfig", "incrementalPullConfig", "datetimeTypeFieldName")
    if mode == "Incremental" and not (isinstance(field, str) and field):
        # 001 line 19,890: incremental transfer picks new or changed records by a source timestamp field.
        out.append(
            (
                "sourceFlowConfig.incrementalPullConfig.datetimeTypeFieldName",
                "is required for a Scheduled Incremental flow (the source timestamp field, e.g. LastModifiedDate)",
            )
        )
    offset = sched.get("scheduleOffset")
    if isinstance(offset, int) and not isinstance(offset, bool) and not 0 <= offset <= MAX_SCHEDULE_OFFSET:
        # 001 line 19,901: "it must be less than 10 hours. The default value is 0." (model: 0..36000 seconds)
        out.append(
            (
                f"{SCHEDULED}.scheduleOffset",
                f"must be between 0 and {MAX_SCHEDULE_OFFSET} seconds (the offset must be less than 10 hours)",
            )
        )
        offset = 0
    tz = sched.get("timezone") or "UTC"
    tz_ok = True
    if isinstance(tz, str):
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            tz_ok = False
            out.append((f"{SCHEDULED}.timezone", "must be an IANA time zone name, e.g. America/New_York"))
    expr = sched.get("scheduleExpression")
    if isinstance(expr, str) and tz_ok and isinstance(tz, str):
        try:
            cadence = parse_schedule_expression(
                expr, timezone=tz, offset_seconds=offset if isinstance(offset, int) else 0
            )
        except ScheduleParseError as e:
            out.append((f"{SCHEDULED}.scheduleExpression", str(e)))
        else:
            source = _get(doc, "sourceFlowConfig", "connectorType")
            floor = (
                MIN_SCHEDULE_INTERVAL.get(source, timedelta(minutes=1)) if isinstance(source, str) else None
            )
            if floor is not None and cadence.min_interval < floor:
                # 001 lines 21,584-21,605: per-source maximum run frequency.
                out.append(
                    (
                        f"{SCHEDULED}.scheduleExpression",
                        f"runs more often than {source} allows (at most once per {_human(floor)})",
                    )
                )
    start = (
        parse_timestamp(sched.get("scheduleStartTime"))
        if sched.get("scheduleStartTime") is not None
        else None
    )
    end = parse_timestamp(sched.get("scheduleEndTime")) if sched.get("scheduleEndTime") is not None else None
    if start and end and end <= start:
        out.append((f"{SCHEDULED}.scheduleEndTime", "must be after scheduleStartTime"))
    return out


def _props(task: Mapping[str, Any]) -> Mapping[str, Any]:
    p = task.get("taskProperties")
    return p if isinstance(p, Mapping) else {}


def _operator(task: Mapping[str, Any]) -> str | None:
    op = task.get("connectorOperator")
    if isinstance(op, Mapping) and op:
        v = next(iter(op.values()))
        return v if isinstance(v, str) else None
    return None


def _task(i: int, task: Mapping[str, Any], doc: Mapping[str, Any]) -> list[Problem]:
    out: list[Problem] = []
    base = f"tasks[{i}]"
    ttype = task.get("taskType")
    props = _props(task)
    op = _operator(task)
    raw_fields = task.get("sourceFields")
    fields: list[Any] = raw_fields if isinstance(raw_fields, list) else []
    source = _get(doc, "sourceFlowConfig", "connectorType")
    conn_op = task.get("connectorOperator")
    if isinstance(conn_op, Mapping) and len(conn_op) > 1:
        out.append((f"{base}.connectorOperator", "must name exactly one connector"))
    if (
        isinstance(conn_op, Mapping)
        and isinstance(source, str)
        and conn_op
        and not any(str(k).lower() == source.lower() for k in conn_op)
    ):
        out.append((f"{base}.connectorOperator", f"must be keyed by the source connector '{source}'"))

    if ttype == "Filter":
        # 001 line 2,113: a filter selects a field, a condition, and then the criteria.
        if op is None:
            out.append((f"{base}.connectorOperator", "is required for a Filter task (the condition)"))
        elif op == "BETWEEN":
            for key in ("LOWER_BOUND", "UPPER_BOUND"):
                if key not in props:
                    out.append((f"{base}.taskProperties.{key}", "is required for a BETWEEN filter"))
        elif op in _COMPARISONS and "VALUE" not in props and "VALUES" not in props:
            out.append((f"{base}.taskProperties.VALUE", f"is required for a {op} filter (or VALUES)"))
        if op not in (None, "PROJECTION") and len(fields) != 1:
            out.append((f"{base}.sourceFields", "a Filter task needs exactly one source field"))
        if op == "PROJECTION" and not fields:
            out.append((f"{base}.sourceFields", "a PROJECTION filter needs the fields to read"))
    elif ttype == "Map":
        # 001 lines 18,822-18,823: a mapping pairs a source field with a destination field.
        if not task.get("destinationField"):
            out.append((f"{base}.destinationField", "is required for a Map task"))
        if not fields:
            out.append((f"{base}.sourceFields", "a Map task needs a source field"))
    elif ttype == "Validate":
        # 001 lines 1,073 and 2,108: a validation names the field, the condition and the action
        # ("Ignore record" / terminate the flow), written VALIDATION_ACTION DropRecord / TerminateFlow.
        action = props.get("VALIDATION_ACTION")
        if action is None:
            out.append(
                (
                    f"{base}.taskProperties.VALIDATION_ACTION",
                    f"is required for a Validate task; must be one of: {', '.join(VALIDATION_ACTIONS)}",
                )
            )
        elif action not in VALIDATION_ACTIONS:
            out.append(
                (
                    f"{base}.taskProperties.VALIDATION_ACTION",
                    f"must be one of: {', '.join(VALIDATION_ACTIONS)}",
                )
            )
        if op is not None and not op.startswith("VALIDATE_"):
            out.append((f"{base}.connectorOperator", "a Validate task needs a VALIDATE_* operator"))
        if not fields:
            out.append((f"{base}.sourceFields", "a Validate task needs the field to check"))
    elif ttype == "Mask":
        if op in ("MASK_FIRST_N", "MASK_LAST_N"):
            out += _positive_int(props, "MASK_LENGTH", base, required=True)
    elif ttype == "Truncate":
        out += _positive_int(props, "TRUNCATE_LENGTH", base, required=True)
    elif ttype == "Partition":
        out += _partition_keys(base, task, props)
    if "EXCLUDE_SOURCE_FIELDS_LIST" in props:
        out += _json_list(props, "EXCLUDE_SOURCE_FIELDS_LIST", base)
    return out


def _positive_int(props: Mapping[str, Any], key: str, base: str, required: bool) -> list[Problem]:
    path = f"{base}.taskProperties.{key}"
    v = props.get(key)
    if v is None:
        return [(path, "is required")] if required else []
    if not (isinstance(v, str) and v.strip().isdigit() and int(v) >= 1):
        return [(path, "must be an integer ≥ 1")]
    return []


def _json_list(props: Mapping[str, Any], key: str, base: str) -> list[Problem]:
    v = props.get(key)
    if not isinstance(v, str):
        return []
    try:
        parsed = json.loads(v)
    except ValueError:
        return [(f"{base}.taskProperties.{key}", 'must be a JSON list of field names, e.g. ["Id","Name"]')]
    if not isinstance(parsed, list):
        return [(f"{base}.taskProperties.{key}", 'must be a JSON list of field names, e.g. ["Id","Name"]')]
    return []


def partition_keys(task: Mapping[str, Any]) -> list[str]:
    """The ordered partition keys of a Partition task (``ORDERED_PARTITION_KEYS_LIST`` or sourceFields)."""
    raw = _props(task).get("ORDERED_PARTITION_KEYS_LIST")
    if isinstance(raw, str):
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = [p.strip() for p in raw.split(",") if p.strip()]
        if isinstance(parsed, list):
            return [str(p) for p in parsed]
    fields = task.get("sourceFields")
    return [str(f) for f in fields] if isinstance(fields, list) else []


def _partition_keys(base: str, task: Mapping[str, Any], props: Mapping[str, Any]) -> list[Problem]:
    keys = partition_keys(task)
    if len(keys) > MAX_PARTITION_KEYS:
        # 001 line 19,772: "you can then specify up to 10 fields as partition keys".
        where = (
            "taskProperties.ORDERED_PARTITION_KEYS_LIST"
            if "ORDERED_PARTITION_KEYS_LIST" in props
            else "sourceFields"
        )
        return [
            (f"{base}.{where}", f"at most {MAX_PARTITION_KEYS} partition keys are allowed (got {len(keys)})")
        ]
    return []
