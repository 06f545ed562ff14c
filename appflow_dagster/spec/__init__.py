"""The flow spec layer: AppFlow flow and connection documents → validated, typed specs.

Pure: no Dagster, no I/O beyond reading the files it is given.
"""

from appflow_dagster.spec.model import (
    ConnectorProfile,
    CredentialRef,
    FlowSpec,
    SpecError,
    SpecValidationError,
)
from appflow_dagster.spec.parse import load_connections, load_flows, validate_paths
from appflow_dagster.spec.schedule import (
    ScheduleCadence,
    ScheduleParseError,
    cadence_for_trigger,
    first_partition_start,
    parse_schedule_expression,
    partition_windows,
    window_for_partition,
)

__all__ = [
    "ConnectorProfile",
    "CredentialRef",
    "FlowSpec",
    "ScheduleCadence",
    "ScheduleParseError",
    "SpecError",
    "SpecValidationError",
    "cadence_for_trigger",
    "first_partition_start",
    "load_connections",
    "load_flows",
    "parse_schedule_expression",
    "partition_windows",
    "validate_paths",
    "window_for_partition",
]
