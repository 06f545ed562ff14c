"""Checks the engine can make of a flow before any run: its tasks compile. The spec layer
validates the document; this catches what only the task compiler knows (e.g. a flow whose tasks
map nothing to the destination), so `validate` and code-location load report it per file."""

from collections.abc import Sequence

from appflow_dagster.engine.tasks import Pipeline, compile_tasks
from appflow_dagster.engine.tasks_compile import TaskError
from appflow_dagster.spec.model import FlowSpec, SpecError


def compile_flows(flows: Sequence[FlowSpec]) -> tuple[dict[str, Pipeline], list[SpecError]]:
    """Each flow's task pipeline (without a source describe), and a ``FILE: tasks[i]...: message``
    error per flow whose tasks do not compile."""
    pipelines: dict[str, Pipeline] = {}
    errors = []
    for flow in flows:
        try:
            pipelines[flow.name] = compile_tasks(flow.tasks, None)
        except TaskError as exc:
            path, _, message = str(exc).partition(": ")
            errors.append(SpecError(flow.file, path, message) if message else SpecError(flow.file, "", path))
    return pipelines, errors


def task_errors(flows: Sequence[FlowSpec]) -> list[SpecError]:
    return compile_flows(flows)[1]
