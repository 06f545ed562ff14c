"""Compile a flow's ``tasks`` list into typed rules (pure; no data touched).

Every task is checked against the AppFlow API vocabulary (``tasks_vocab``); errors name the task
path, e.g. ``tasks[3].taskProperties.MASK_LENGTH: must be an integer ≥ 1, got '0'``.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import orjson

from appflow_dagster.connectors.base import Condition, ObjectInfo
from appflow_dagster.engine.tasks_filter import FilterSpec, filter_spec, split_values
from appflow_dagster.engine.tasks_transform import operand_order, positive_int
from appflow_dagster.engine.tasks_vocab import OPERATORS_BY_TASK, PROPERTY_KEYS, TASK_TYPES
from appflow_dagster.engine.validate import ValidationSpec, validation_spec
from appflow_dagster.spec.model import Task


class TaskError(ValueError):
    """A task the engine cannot run; the message starts with the task path."""


@dataclass(frozen=True)
class MapRule:
    """One field that reaches the destination (Map, Map_all expansion, Passthrough, or a derived field)."""

    task_index: int
    kind: str  # "Map" | "Map_all" | "Passthrough" | "Derived"
    source: str | None  # None: every source field (Map_all / Passthrough with no sourceFields)
    destination: str | None
    source_type: str | None = None
    destination_type: str | None = None
    exclude: tuple[str, ...] = ()
    include_new_fields: bool = True


@dataclass(frozen=True)
class TransformRule:
    """Mask / Truncate (in place, or into ``destination``) and Merge / Arithmetic (into ``destination``)."""

    task_index: int
    kind: str  # "Mask" | "Truncate" | "Merge" | "Arithmetic"
    fields: tuple[str, ...]
    destination: str
    operator: str
    mask_value: str = "*"
    length: int = 0
    concat_format: str | None = None


@dataclass
class Compiled:
    projection: list[str] | None = None
    filters: list[FilterSpec] = field(default_factory=list)
    pushdown: list[Condition] = field(default_factory=list)
    validations: list[ValidationSpec] = field(default_factory=list)
    in_place: list[TransformRule] = field(default_factory=list)
    derived: list[TransformRule] = field(default_factory=list)
    maps: list[MapRule] = field(default_factory=list)
    partition_keys: list[str] = field(default_factory=list)
    #: Source fields the tasks read (first task index that names each), in task order.
    referenced: dict[str, int] = field(default_factory=dict)


def json_or_csv_list(raw: str, path: str) -> list[str]:
    """A list property written as JSON (``["a","b"]``) or comma-separated; ``[]``/blank is empty."""
    text = raw.strip()
    if not text or text == "[]":
        return []
    if text.startswith("["):
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            raise TaskError(f"{path}: not a JSON list: {raw!r}") from None
        if not isinstance(value, list):
            raise TaskError(f"{path}: not a JSON list: {raw!r}")
        return [str(v) for v in value]
    return list(split_values(text))


def _bool(raw: str | None, default: bool) -> bool:
    return default if raw is None else raw.strip().lower() in ("true", "1", "yes")


def _one_field(task: Task, path: str) -> str:
    if len(task.source_fields) != 1:
        raise TaskError(f"{path}.sourceFields: {task.task_type} needs exactly one source field")
    return task.source_fields[0]


def compile_all(
    tasks: Sequence[Task], source: ObjectInfo | None, can_push_down: Callable[[Condition], bool]
) -> Compiled:
    """Turn tasks into rules, in document order within each kind."""
    c = Compiled()
    for i, task in enumerate(tasks):
        path = f"tasks[{i}]"
        try:
            _compile_one(c, i, task, path, source, can_push_down)
        except TaskError:
            raise
        except ValueError as exc:
            msg = str(exc)
            raise TaskError(msg if msg.startswith("tasks[") else f"{path}: {msg}") from None
    derived_names = {r.destination for r in c.derived}
    for f, i in c.referenced.items():
        if f in derived_names:
            continue
        if source is not None and source.field(f) is None:
            raise TaskError(f"tasks[{i}].sourceFields: {f!r} is not a field of {source.name}")
    if not c.maps and not c.derived:
        raise TaskError(
            "tasks: no Map, Map_all, Passthrough, Merge or Arithmetic task: nothing would reach the destination"
        )
    return c


def _note(c: Compiled, names: Sequence[str], index: int) -> None:
    for n in names:
        c.referenced.setdefault(n, index)


def _compile_one(
    c: Compiled,
    i: int,
    task: Task,
    path: str,
    source: ObjectInfo | None,
    can_push_down: Callable[[Condition], bool],
) -> None:
    tt = task.task_type
    if tt not in TASK_TYPES:
        raise TaskError(f"{path}.taskType: {tt!r} is not one of {list(TASK_TYPES)}")
    op = task.connector_operator or "NO_OP"
    if op not in OPERATORS_BY_TASK[tt]:
        raise TaskError(
            f"{path}.connectorOperator: {op!r} does not apply to {tt} (allowed: {sorted(OPERATORS_BY_TASK[tt])})"
        )
    props = dict(task.task_properties)
    unknown = sorted(set(props) - set(PROPERTY_KEYS))
    if unknown:
        raise TaskError(f"{path}.taskProperties: unknown key(s) {unknown}")
    dest = task.destination_field or None

    if tt == "Filter":
        if op == "PROJECTION":
            c.projection = (c.projection or []) + [
                f for f in task.source_fields if f not in (c.projection or [])
            ]
            return
        spec = filter_spec(i, _one_field(task, path), op, props, path)
        if can_push_down(spec.condition):
            c.pushdown.append(spec.condition)
        else:
            c.filters.append(spec)
            _note(c, [spec.field], i)
    elif tt == "Validate":
        c.validations.append(validation_spec(i, _one_field(task, path), op, props, path))
        _note(c, task.source_fields, i)
    elif tt == "Map":
        if not task.source_fields:
            raise TaskError(f"{path}.sourceFields: Map needs a source field")
        if len(task.source_fields) > 1 and dest:
            raise TaskError(
                f"{path}.sourceFields: Map with a destinationField takes exactly one source field"
            )
        src_t = props.get("SOURCE_DATA_TYPE") or props.get("DATA_TYPE")
        for f in task.source_fields:
            c.maps.append(MapRule(i, "Map", f, dest or f, src_t, props.get("DESTINATION_DATA_TYPE")))
        _note(c, task.source_fields, i)
    elif tt == "Map_all":
        exclude = json_or_csv_list(
            props.get("EXCLUDE_SOURCE_FIELDS_LIST", "[]"), f"{path}.taskProperties.EXCLUDE_SOURCE_FIELDS_LIST"
        )
        c.maps.append(MapRule(i, "Map_all", None, None, exclude=tuple(exclude),
                              include_new_fields=_bool(props.get("INCLUDE_NEW_FIELDS"), True)))  # fmt: skip
    elif tt == "Passthrough":
        if task.source_fields:
            for f in task.source_fields:
                c.maps.append(
                    MapRule(i, "Passthrough", f, dest if len(task.source_fields) == 1 and dest else f)
                )
            _note(c, task.source_fields, i)
        else:
            c.maps.append(MapRule(i, "Passthrough", None, None))
    elif tt == "Partition":
        raw = props.get("ORDERED_PARTITION_KEYS_LIST")
        keys = (
            json_or_csv_list(raw, f"{path}.taskProperties.ORDERED_PARTITION_KEYS_LIST")
            if raw
            else list(task.source_fields)
        )
        if not keys or len(keys) > 10:
            raise TaskError(
                f"{path}: a Partition task names 1 to 10 destination fields (001:19772), got {len(keys)}"
            )
        c.partition_keys = keys
    elif tt in ("Mask", "Truncate"):
        f = _one_field(task, path)
        if tt == "Mask":
            mask_value = props.get("MASK_VALUE", "*")
            if len(mask_value) != 1:
                raise TaskError(
                    f"{path}.taskProperties.MASK_VALUE: must be one character, got {mask_value!r}"
                )
            n = 0 if op == "MASK_ALL" else positive_int(props, "MASK_LENGTH", path)
            rule = TransformRule(i, tt, (f,), dest or f, op, mask_value=mask_value, length=n)
        else:
            rule = TransformRule(
                i, tt, (f,), dest or f, op, length=positive_int(props, "TRUNCATE_LENGTH", path)
            )
        (c.in_place if rule.destination == f else c.derived).append(rule)
        _note(c, [f], i)
    elif tt in ("Merge", "Arithmetic"):
        if not dest:
            raise TaskError(f"{path}.destinationField: {tt} needs a destination field")
        if len(task.source_fields) < (2 if tt == "Arithmetic" else 1):
            raise TaskError(f"{path}.sourceFields: {tt} needs its operand fields")
        if tt == "Arithmetic":
            left, right = operand_order(task.source_fields, props, path)
            c.derived.append(TransformRule(i, tt, (left, right), dest, op))
        else:
            c.derived.append(
                TransformRule(
                    i, tt, tuple(task.source_fields), dest, op, concat_format=props.get("CONCAT_FORMAT")
                )
            )
        _note(c, task.source_fields, i)
