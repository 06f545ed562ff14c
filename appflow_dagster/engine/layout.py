"""Where AppFlow puts S3 output: folders and file names (001, "Partitioning and aggregating", ~19,700).

Folders nest in AppFlow's order (001, "Example file paths for partitioned datasets", ~19,790)::

    bucketPrefix/flowName/[schemaVersion_N/][YYYY/MM/DD/HH/mm/][executionId/][Field=value/...]file

* ``schemaVersion_N`` when ``pathPrefixHierarchy`` lists ``SCHEMA_VERSION``;
* date folders (UTC, run time) down to ``prefixFormat`` when ``prefixType`` is ``PATH`` or
  ``PATH_AND_FILENAME``;
* the execution id folder when ``pathPrefixHierarchy`` lists ``EXECUTION_ID``, or is empty (AppFlow's
  default layout ``bucket/bucketPrefix/flowName/executionId/``);
* one ``Field=value`` folder per Partition key, in order; null and empty values go to ``Field=null``
  as in the guide's ``Account Rating=null/``.

File names are ``<executionId>-<part>.<ext>`` (part is 5 digits, counted per folder); with
``prefixType`` ``FILENAME`` or ``PATH_AND_FILENAME`` the name ends with the run's UTC timestamp at the
``prefixFormat`` precision (001 ~2477: "Your filename will end with the file creation timestamp").
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from appflow_dagster.destinations.base import join_key
from appflow_dagster.spec.model import FlowSpec, OutputFormat

EXTENSIONS = {"JSON": "jsonl", "CSV": "csv", "PARQUET": "parquet"}
NULL_PARTITION = "null"

_DATE_PATH = {
    "YEAR": "%Y",
    "MONTH": "%Y/%m",
    "DAY": "%Y/%m/%d",
    "HOUR": "%Y/%m/%d/%H",
    "MINUTE": "%Y/%m/%d/%H/%M",
}
_DATE_NAME = {
    "YEAR": "%Y",
    "MONTH": "%Y-%m",
    "DAY": "%Y-%m-%d",
    "HOUR": "%Y-%m-%dT%H",
    "MINUTE": "%Y-%m-%dT%H:%M",
}
# Hive's escaping of partition values, so a value can never add or climb a folder.
_ESCAPE = set("\"#%'*/:=?\\\x7f{[]^") | {chr(c) for c in range(0x20)}


def escape_partition_value(value: str) -> str:
    return "".join(f"%{ord(c):02X}" if c in _ESCAPE else c for c in value)


def partition_folder(field: str, value: str | None) -> str:
    """``Field=value``; null and empty values are ``Field=null``."""
    text = NULL_PARTITION if value is None or value == "" else escape_partition_value(value)
    return f"{escape_partition_value(field)}={text}"


def flow_root(flow: FlowSpec) -> str:
    """``bucketPrefix/flowName``: everything of this flow, data and ``_appflow`` metadata, is below."""
    return join_key(flow.destination.bucket_prefix, flow.name)


def error_root(flow: FlowSpec) -> tuple[str, str] | None:
    """``(bucket, bucketPrefix/flowName)`` for failed records, when an error location is configured."""
    eh = flow.destination.error_handling
    if eh is None or not eh.bucket_name:
        return None
    return eh.bucket_name, join_key(eh.bucket_prefix, flow.name)


@dataclass(frozen=True)
class Layout:
    """Folders and file names of one run."""

    root: str
    execution_id: str
    run_time: datetime
    output: OutputFormat
    schema_version: int | None = None

    @property
    def uses_schema_version(self) -> bool:
        return "SCHEMA_VERSION" in self.output.prefix_config.path_prefix_hierarchy

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.output.file_type]

    def _utc(self) -> datetime:
        t = self.run_time
        return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)

    def run_folder(self) -> str:
        """The run's folder, above any ``Field=value`` folders."""
        pc = self.output.prefix_config
        parts: list[str] = [self.root]
        if self.uses_schema_version:
            if self.schema_version is None:
                raise ValueError("SCHEMA_VERSION in pathPrefixHierarchy needs a schema version")
            parts.append(f"schemaVersion_{self.schema_version}")
        if pc.prefix_type in ("PATH", "PATH_AND_FILENAME"):
            parts.append(self._utc().strftime(_DATE_PATH[pc.prefix_format or "DAY"]))
        if not pc.path_prefix_hierarchy or "EXECUTION_ID" in pc.path_prefix_hierarchy:
            parts.append(self.execution_id)
        return join_key(*parts)

    def folder(self, partition: tuple[tuple[str, str | None], ...] = ()) -> str:
        return join_key(self.run_folder(), *(partition_folder(f, v) for f, v in partition))

    def file_name(self, part: int) -> str:
        pc = self.output.prefix_config
        name = f"{self.execution_id}-{part:05d}"
        if pc.prefix_type in ("FILENAME", "PATH_AND_FILENAME"):
            name += "-" + self._utc().strftime(_DATE_NAME[pc.prefix_format or "DAY"])
        return f"{name}.{self.extension}"

    def file_key(self, partition: tuple[tuple[str, str | None], ...], part: int) -> str:
        return join_key(self.folder(partition), self.file_name(part))
