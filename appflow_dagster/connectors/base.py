"""What every source connector offers the engine. No Dagster imports in this layer."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

import pyarrow as pa


@dataclass(frozen=True)
class Window:
    """A half-open pull window ``[start, end)`` on the flow's ``datetimeTypeFieldName`` (UTC)."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class Condition:
    """A filter the engine may push down to the source.

    ``operator`` is AppFlow's Filter operator (``EQUAL_TO``, ``NOT_EQUAL_TO``, ``LESS_THAN``,
    ``LESS_THAN_OR_EQUAL_TO``, ``GREATER_THAN``, ``GREATER_THAN_OR_EQUAL_TO``, ``BETWEEN``,
    ``CONTAINS``); ``values`` are the task property values as strings (``VALUE``, or
    ``LOWER_BOUND``/``UPPER_BOUND`` for ``BETWEEN``, or several for ``VALUES``).
    """

    field: str
    operator: str
    values: tuple[str, ...]
    data_type: str | None = None


@dataclass(frozen=True)
class FieldInfo:
    """One field of a source object, as ``describe`` reports it."""

    name: str
    #: The source's own type name (Salesforce: ``id``, ``string``, ``datetime``, ``double``, ...).
    source_type: str
    arrow_type: pa.DataType
    label: str | None = None
    nullable: bool = True
    filterable: bool = True


@dataclass(frozen=True)
class ObjectInfo:
    name: str
    label: str | None
    fields: tuple[FieldInfo, ...]

    def field(self, name: str) -> FieldInfo | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([pa.field(f.name, f.arrow_type, nullable=f.nullable) for f in self.fields])


@runtime_checkable
class SourceConnector(Protocol):
    """A SaaS source. Implementations hold no whole transfer in memory."""

    def list_objects(self) -> list[str]: ...

    def describe(self, object_name: str) -> ObjectInfo: ...

    def can_push_down(self, object_name: str, condition: Condition) -> bool: ...

    def read(
        self,
        object_name: str,
        fields: Sequence[str] | None = None,
        window: Window | None = None,
        window_field: str | None = None,
        conditions: Sequence[Condition] = (),
        *,
        include_deleted: bool = False,
    ) -> Iterator[pa.RecordBatch]:
        """Yield record batches (one per API page) whose schema follows ``describe``.

        ``include_deleted``: also deleted records, where the source keeps them (Salesforce
        ``includeDeletedRecords``, read through ``queryAll``).
        """
        ...

    def close(self) -> None: ...


class ConnectorError(RuntimeError):
    """A non-transient failure talking to a source, with the vendor's error code when known."""

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        self.status = status
        self.code = code
        super().__init__(message)
