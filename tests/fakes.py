"""An in-memory SourceConnector for engine and destination tests (the Salesforce path has the sandbox)."""

from collections.abc import Iterator
from typing import Any

import pyarrow as pa

from appflow_dagster.connectors.base import Condition, ObjectInfo


class InMemorySource:
    """``n`` records in pages of ``page``, built by :meth:`columns`; raises ``error`` after ``fail_after`` pages."""

    error: type[Exception] = RuntimeError

    def __init__(self, info: ObjectInfo, n: int = 10, page: int = 4, fail_after: int | None = None):
        self.info, self.n, self.page, self.fail_after = info, n, page, fail_after

    def columns(self, ids: range) -> dict[str, list[Any]]:
        raise NotImplementedError

    def list_objects(self) -> list[str]:
        return [self.info.name]

    def describe(self, object_name: str) -> ObjectInfo:
        return self.info

    def can_push_down(self, object_name: str, condition: Condition) -> bool:
        return False

    def read(self, object_name, fields=None, window=None, window_field=None, conditions=(), *, include_deleted=False) -> Iterator[pa.RecordBatch]:  # fmt: skip
        for i, start in enumerate(range(0, self.n, self.page)):
            if self.fail_after is not None and i >= self.fail_after:
                raise self.error("source went away")
            ids = range(start, min(start + self.page, self.n))
            yield pa.RecordBatch.from_pydict(self.columns(ids), schema=self.info.schema)

    def close(self) -> None:
        pass
