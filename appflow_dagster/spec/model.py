"""The typed flow model: one shape for CreateFlow documents and CloudFormation ``AWS::AppFlow::Flow``.

Pure data, no I/O and no Dagster. Field names follow the AppFlow API (``botocore`` appflow
``2020-08-23`` service model) in snake_case; the raw document is kept for anything a later layer
needs that is not modelled yet.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

TriggerType = Literal["OnDemand", "Scheduled", "Event"]
DataPullMode = Literal["Incremental", "Complete"]
FileType = Literal["CSV", "JSON", "PARQUET"]
PrefixType = Literal["FILENAME", "PATH", "PATH_AND_FILENAME"]
PrefixFormat = Literal["YEAR", "MONTH", "DAY", "HOUR", "MINUTE"]
PathPrefix = Literal["EXECUTION_ID", "SCHEMA_VERSION"]
AggregationType = Literal["None", "SingleFile"]

#: Connector types this project can read from / write to. Others are refused by name.
SUPPORTED_SOURCES: frozenset[str] = frozenset({"Salesforce"})
SUPPORTED_DESTINATIONS: frozenset[str] = frozenset({"S3"})


@dataclass(frozen=True)
class Task:
    """One AppFlow task (API shape ``Task``)."""

    task_type: str
    source_fields: tuple[str, ...] = ()
    #: The operator from ``connectorOperator`` (whichever connector key it is under), e.g. ``NO_OP``.
    connector_operator: str | None = None
    destination_field: str | None = None
    task_properties: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ScheduledTrigger:
    """``ScheduledTriggerProperties``."""

    schedule_expression: str
    data_pull_mode: DataPullMode = "Incremental"
    schedule_start_time: datetime | None = None
    schedule_end_time: datetime | None = None
    timezone: str = "UTC"
    schedule_offset: int = 0
    first_execution_from: datetime | None = None
    flow_error_deactivation_threshold: int | None = None


@dataclass(frozen=True)
class Trigger:
    trigger_type: TriggerType
    scheduled: ScheduledTrigger | None = None


@dataclass(frozen=True)
class Source:
    connector_type: str
    connector_profile_name: str | None
    #: The source object, e.g. ``Account`` (``sourceConnectorProperties.<Connector>.object``).
    object: str
    #: The connector's own source properties as written (e.g. ``includeDeletedRecords``).
    properties: Mapping[str, Any] = field(default_factory=dict)
    #: ``incrementalPullConfig.datetimeTypeFieldName``.
    datetime_type_field_name: str | None = None


@dataclass(frozen=True)
class PrefixConfig:
    prefix_type: PrefixType | None = None
    prefix_format: PrefixFormat | None = None
    path_prefix_hierarchy: tuple[PathPrefix, ...] = ()


@dataclass(frozen=True)
class AggregationConfig:
    aggregation_type: AggregationType = "None"
    #: Target file size in MB; None means AppFlow's default behaviour.
    target_file_size: int | None = None


@dataclass(frozen=True)
class OutputFormat:
    """``S3OutputFormatConfig``."""

    file_type: FileType = "JSON"
    prefix_config: PrefixConfig = field(default_factory=PrefixConfig)
    aggregation_config: AggregationConfig = field(default_factory=AggregationConfig)
    preserve_source_data_typing: bool = False


@dataclass(frozen=True)
class ErrorHandling:
    """``ErrorHandlingConfig``."""

    fail_on_first_destination_error: bool = False
    bucket_name: str | None = None
    bucket_prefix: str | None = None


@dataclass(frozen=True)
class Destination:
    connector_type: str
    connector_profile_name: str | None = None
    bucket_name: str = ""
    bucket_prefix: str | None = None
    output_format: OutputFormat = field(default_factory=OutputFormat)
    error_handling: ErrorHandling | None = None
    properties: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FlowSpec:
    """A validated flow. ``file`` is where it was read from (for error messages and metadata)."""

    name: str
    source: Source
    destinations: tuple[Destination, ...]
    tasks: tuple[Task, ...]
    trigger: Trigger
    description: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    file: str = ""
    #: The CreateFlow document (camelCase), after CloudFormation translation; read-only members removed.
    document: Mapping[str, Any] = field(default_factory=dict)

    @property
    def destination(self) -> Destination:
        """The first destination (AppFlow allows exactly one for S3 destinations)."""
        return self.destinations[0]

    @property
    def is_incremental(self) -> bool:
        s = self.trigger.scheduled
        return (
            self.trigger.trigger_type == "Scheduled" and s is not None and s.data_pull_mode == "Incremental"
        )


@dataclass(frozen=True)
class CredentialRef:
    """A reference to a secret, never the secret itself.

    Written in a connection profile as a CloudFormation-style dynamic reference:
    ``{{resolve:env:VAR}}`` or ``{{resolve:secretsmanager:SECRET_ID[:SecretString[:JSON_KEY]]}}``.
    A Salesforce ``clientCredentialsArn`` that is a real Secrets Manager ARN is a reference too.
    """

    kind: Literal["env", "secretsmanager"]
    name: str
    json_key: str | None = None

    def __str__(self) -> str:  # never the value: safe for logs and metadata
        suffix = f":{self.json_key}" if self.json_key else ""
        return f"{{{{resolve:{self.kind}:{self.name}{suffix}}}}}"


@dataclass(frozen=True)
class ConnectorProfile:
    """A ``CreateConnectorProfile`` document; every credential is a :class:`CredentialRef`."""

    name: str
    connector_type: str
    connection_mode: str = "Public"
    properties: Mapping[str, Any] = field(default_factory=dict)
    credentials: Mapping[str, CredentialRef | str] = field(default_factory=dict)
    file: str = ""


@dataclass(frozen=True)
class SpecError:
    """One problem in one file: rendered ``FILE: field.path: message``."""

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.message}" if self.path else f"{self.file}: {self.message}"


class SpecValidationError(ValueError):
    """Raised with every error of every file at once."""

    def __init__(self, errors: list[SpecError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))
