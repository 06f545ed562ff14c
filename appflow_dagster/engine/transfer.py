"""One flow run: read the source window batch by batch, apply the tasks, write, commit atomically.

No per-record Python: batches go Arrow → polars (zero copy) → task expressions → the writer. If
the source fails midway, a TerminateFlow validation stops the run, or a record fails with
``failOnFirstDestinationError``, nothing is committed and the exception propagates.
"""

import dataclasses
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
import polars as pl
import pyarrow as pa

from appflow_dagster.connectors.base import ObjectInfo, SourceConnector, Window
from appflow_dagster.destinations import StoreResolver, resolver_from_env
from appflow_dagster.destinations.base import FileStore
from appflow_dagster.destinations.commit import RunCommit, partition_manifest_key, read_json
from appflow_dagster.engine.checks import IdTracker
from appflow_dagster.engine.layout import Layout, error_root, flow_root
from appflow_dagster.engine.tasks import Pipeline, ValidationStat, compile_tasks
from appflow_dagster.engine.writer import (
    DestinationError,
    ErrorWriter,
    OutputWriter,
    record_schema_version,
    resolve_schema_version,
)
from appflow_dagster.spec.model import FlowSpec

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TransferResult:
    """What one run did; the Dagster layer turns it into materialization metadata."""

    execution_id: str
    records_read: int
    records_written: int
    records_dropped: int
    records_failed: int
    files: list[str]
    bytes_written: int
    schema: pa.Schema
    output_uri: str
    window: Window | None
    partition_key: str | None
    validations: list[ValidationStat] = field(default_factory=list)
    schema_version: int | None = None
    duration_s: float = 0.0
    error_files: list[str] = field(default_factory=list)
    #: The fields whose uniqueness was checked (the source's id fields that reach the destination).
    id_fields: list[str] = field(default_factory=list)
    #: Records whose id-field values repeat an earlier record's in this run.
    duplicate_ids: int = 0


def schema_signature(pipeline: Pipeline, info: ObjectInfo) -> str:
    """What bumps ``schemaVersion_N``: the tasks' signature plus the source types of the fields read."""
    wanted = pipeline.source_fields
    fields = [(f.name, str(f.arrow_type)) for f in info.fields if wanted is None or f.name in wanted]
    doc = {"tasks": pipeline.signature(), "fields": sorted(fields)}
    return hashlib.sha256(orjson.dumps(doc)).hexdigest()[:16]


def _merge_stats(total: dict[int, ValidationStat], stats: list[ValidationStat]) -> None:
    for st in stats:
        prev = total.get(st.task_index)
        total[st.task_index] = (
            st
            if prev is None
            else dataclasses.replace(
                prev,
                checked=prev.checked + st.checked,
                failed=prev.failed + st.failed,
                dropped=prev.dropped + st.dropped,
            )
        )


def run_transfer(
    flow: FlowSpec,
    connector: SourceConnector,
    *,
    execution_id: str,
    window: Window | None,
    partition_key: str | None,
    store_resolver: StoreResolver | None = None,
    now: datetime | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    target_file_bytes: int | None = None,
) -> TransferResult:
    """Run ``flow`` once and commit its output; see the module docstring for failure behaviour.

    Args:
        execution_id: the run id; names the run's folder and files.
        window: the pull window on ``datetimeTypeFieldName`` (incremental flows), or None.
        partition_key: the Dagster partition; a re-run replaces exactly that partition's files.
        store_resolver: ``bucket -> FileStore`` (default: :func:`resolver_from_env`).
        now: the run time for date folders and file-name timestamps (default: now, UTC).
        on_progress: called with ``(records_read, records_written)`` after each batch.
        target_file_bytes: overrides ``targetFileSize`` (tests use small sizes).
    """
    started = time.monotonic()
    now = now or datetime.now(UTC)
    resolve = store_resolver or resolver_from_env()
    dest = flow.destination
    obj = flow.source.object
    info = connector.describe(obj)
    pipeline = compile_tasks(flow.tasks, info, can_push_down=lambda c: connector.can_push_down(obj, c))
    fail_first = bool(dest.error_handling and dest.error_handling.fail_on_first_destination_error)

    store = resolve(dest.bucket_name)
    root = flow_root(flow)
    signature = schema_signature(pipeline, info)
    version, new_version = resolve_schema_version(store, root, signature)
    layout = Layout(root, execution_id, now, dest.output_format, version)
    try:
        out_schema: pa.Schema | None = pipeline.output_schema()
    except Exception:  # a describe the tasks cannot be previewed on: use the first batch's types
        out_schema = None

    commit = RunCommit(store, root, execution_id, partition_key)
    commit.begin()
    writer = OutputWriter(
        commit, layout, partition_keys=pipeline.partition_keys, target_file_bytes=target_file_bytes,
        target_schema=out_schema,
    )  # fmt: skip
    err_commit: RunCommit | None = None
    err_writer: ErrorWriter | None = None
    read = dropped = failed = 0
    stats: dict[int, ValidationStat] = {}
    ids = IdTracker([f.name for f in info.fields if f.source_type == "id"])
    try:
        # A source may also offer ``read_frames`` (the same batches, already polars): no Arrow round trip.
        read_frames = getattr(connector, "read_frames", None)
        for batch in (read_frames or connector.read)(
            obj,
            fields=pipeline.source_fields,
            window=window if flow.source.datetime_type_field_name else None,
            window_field=flow.source.datetime_type_field_name,
            conditions=pipeline.pushdown,
            include_deleted=bool(flow.source.properties.get("includeDeletedRecords")),
        ):
            df = batch if isinstance(batch, pl.DataFrame) else pl.from_arrow(batch)
            assert isinstance(df, pl.DataFrame)
            res = pipeline.apply(df)
            read += res.records_in
            dropped += res.records_dropped_by_filter + res.records_dropped_by_validation
            _merge_stats(stats, res.validations)
            ids.observe(res.df)
            bad = [f for f in (res.failed, writer.write(res.df)) if f is not None and f.height]
            for f in bad:
                if fail_first:
                    raise DestinationError(f"{flow.name}: record failed: {f['error'][0]}")
                if err_writer is None:
                    err_commit, err_writer = _error_output(
                        flow, resolve, execution_id, partition_key, store, root
                    )
                if err_writer is not None:
                    err_writer.write(f)
                failed += f.height
            if on_progress is not None:
                on_progress(read, writer.records_written)
        files = writer.close()
        err_files = err_writer.close() if err_writer is not None else []
        if err_commit is None and partition_key is not None:
            err_commit = _stale_error_output(flow, resolve, execution_id, partition_key, store, root)
        if new_version and layout.uses_schema_version:
            record_schema_version(store, root, signature, version)
        data_meta = {"records": writer.records_written, "schema_version": version}
        final: list[str] = []
        if err_commit is None:
            final = commit.commit(data_meta)
        else:
            # One commit point for both outputs: the error output is promoted and its execution
            # manifest written first, but the previous errors of the partition are replaced only
            # once the data has committed (``then``). If the data commit fails, the error commit
            # is undone too, so a failed run leaves the previous data *and* the previous error
            # records; a run never reports data complete while its failed records are lost.
            # (A kill -9 between the two commit points still recovers the errors forward.)
            err_files = err_commit.commit(
                {"records": failed}, then=lambda: final.extend(commit.commit(data_meta))
            )
    except BaseException:
        writer.abort()
        commit.abort()  # a commit that started settles itself; this only drops staging
        if err_writer is not None:
            err_writer.abort()
        if err_commit is not None:
            err_commit.abort()
        raise

    return TransferResult(
        execution_id=execution_id,
        records_read=read,
        records_written=writer.records_written,
        records_dropped=dropped,
        records_failed=failed,
        files=[store.url(k) for k in final],
        bytes_written=sum(w.bytes for w in files),
        schema=writer.schema or out_schema or pa.schema([]),
        output_uri=store.url(layout.run_folder()),
        window=window,
        partition_key=partition_key,
        validations=list(stats.values()),
        schema_version=version if layout.uses_schema_version else None,
        duration_s=time.monotonic() - started,
        error_files=err_files,
        id_fields=ids.fields if ids.records else [],
        duplicate_ids=ids.duplicates(),
    )


def _error_output(
    flow: FlowSpec, resolve: StoreResolver, execution_id: str, partition_key: str | None,
    data_store: FileStore, data_root: str,
) -> tuple[RunCommit | None, ErrorWriter | None]:  # fmt: skip
    """Where failed records go: the error location, else ``_appflow/errors`` below the flow's root."""
    store, root = _error_location(flow, resolve, data_store, data_root)
    commit = RunCommit(store, root, execution_id, partition_key)
    commit.begin()
    return commit, ErrorWriter(commit, root, execution_id)


def _stale_error_output(
    flow: FlowSpec, resolve: StoreResolver, execution_id: str, partition_key: str,
    data_store: FileStore, data_root: str,
) -> RunCommit | None:  # fmt: skip
    """A partition re-run without failed records still replaces the partition's previous error
    records (an empty error commit), exactly as its data replaces the previous data."""
    store, root = _error_location(flow, resolve, data_store, data_root)
    if read_json(store, partition_manifest_key(root, partition_key)) is None:
        return None
    commit = RunCommit(store, root, execution_id, partition_key)
    commit.begin()
    return commit


def _error_location(
    flow: FlowSpec, resolve: StoreResolver, data_store: FileStore, data_root: str
) -> tuple[FileStore, str]:
    """The error location, else ``_appflow/errors`` below the flow's root."""
    loc = error_root(flow)
    if loc is None:
        return data_store, data_root + "/_appflow/errors"
    return resolve(loc[0]), loc[1]
