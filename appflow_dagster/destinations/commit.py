"""Atomic commit of one run's files to a store, with per-partition replacement and crash recovery.

Protocol, for one run below a flow ``root`` (``bucketPrefix/flowName``):

1. ``begin``: recover dead runs of the same root, then write the run record
   ``_appflow/runs/<execution_id>.json`` (host, pid, phase ``staging``).
2. The writer streams every file under the store's staging prefix (``.staging-<id>/`` locally,
   ``_staging/<id>/`` on S3), mirroring the final layout. Readers never look there.
3. ``commit``: rewrite the run record (phase ``committing``, the final keys, the keys it replaces),
   move each staged file to its final key, then write the commit manifest
   ``_appflow/executions/<execution_id>.json`` — **the commit point** — and, for a partitioned run,
   ``_appflow/partitions/<quoted key>.json``. Only then are the previous partition's keys that the new
   run does not list deleted, and the staging area and run record removed.
4. ``abort``: remove the staging area and the run record (best effort).

A run killed with ``kill -9`` leaves its run record; the next run of the flow rolls it back (before
the commit point: its staged and any promoted files are deleted) or forward (after it: the
replaced keys are deleted). A record is *dead* when its pid is gone on this host, or when it is older
than ``stale_after`` on another host (or ``is_live`` says so).
"""

import logging
import os
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import orjson

from appflow_dagster.destinations.base import FileStore, join_key

log = logging.getLogger(__name__)

META = "_appflow"
DEFAULT_STALE_AFTER = timedelta(hours=24)


def _meta(root: str, *parts: str) -> str:
    return join_key(root, META, *parts)


def partition_manifest_key(root: str, partition_key: str) -> str:
    return _meta(root, "partitions", quote(partition_key, safe="") + ".json")


def execution_manifest_key(root: str, execution_id: str) -> str:
    return _meta(root, "executions", f"{execution_id}.json")


def _run_record_key(root: str, execution_id: str) -> str:
    return _meta(root, "runs", f"{execution_id}.json")


def read_json(store: FileStore, key: str) -> Any | None:
    try:
        return orjson.loads(store.read_bytes(key))
    except FileNotFoundError:
        return None


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def default_is_live(record: dict[str, Any], stale_after: timedelta = DEFAULT_STALE_AFTER) -> bool:
    """A run is live if its process still exists on this host, or it is recent on another host."""
    if record.get("host") == socket.gethostname() and isinstance(record.get("pid"), int):
        return _pid_alive(record["pid"])
    return time.time() - float(record.get("started_at", 0)) < stale_after.total_seconds()


def committed_files(store: FileStore, root: str, partition_key: str | None) -> list[str]:
    """Final keys committed for ``partition_key`` below ``root`` (for an unpartitioned flow: every
    committed run without a partition key), in manifest order."""
    if partition_key is not None:
        manifest = read_json(store, partition_manifest_key(root, partition_key))
        return list(manifest["files"]) if manifest else []
    out: list[str] = []
    for key in sorted(store.list(_meta(root, "executions") + "/")):
        m = read_json(store, key)
        if m and m.get("partition_key") is None:
            out.extend(m["files"])
    return out


def recover(
    store: FileStore,
    root: str,
    *,
    current_execution_id: str | None = None,
    is_live: Callable[[dict[str, Any]], bool] = default_is_live,
) -> list[str]:
    """Roll back or forward every dead run below ``root``; return the execution ids handled."""
    # Staging areas first: a live run writes its record before its staging area, so a staging
    # area seen now has a record visible in the listing that follows.
    areas = store.staging_areas(root)
    records: dict[str, dict[str, Any]] = {}
    for key in store.list(_meta(root, "runs") + "/"):
        rec = read_json(store, key)
        if rec is not None:
            records[rec["execution_id"]] = rec
    handled: list[str] = []
    for exec_id, rec in records.items():
        if exec_id == current_execution_id or is_live(rec):
            continue
        if rec.get("phase") == "committing":
            _finish_or_undo(store, root, rec)
        if exec_id in areas:
            store.delete_prefix(areas[exec_id])
        store.delete([_run_record_key(root, exec_id)])
        handled.append(exec_id)
    for exec_id, prefix in areas.items():
        if exec_id != current_execution_id and exec_id not in records:
            store.delete_prefix(prefix)
            handled.append(exec_id)
    if handled:
        log.info("recovered interrupted runs below %s: %s", store.url(root), ", ".join(handled))
    return handled


def _finish_or_undo(store: FileStore, root: str, rec: dict[str, Any]) -> None:
    exec_id, pk = rec["execution_id"], rec.get("partition_key")
    files = set(rec.get("files", ()))
    if store.exists(execution_manifest_key(root, exec_id)):  # committed: roll forward
        if pk is not None:
            current = read_json(store, partition_manifest_key(root, pk))
            if current is None or current.get("execution_id") in (rec.get("replaces_execution"), exec_id):
                manifest = read_json(store, execution_manifest_key(root, exec_id))
                store.write_bytes(partition_manifest_key(root, pk), orjson.dumps(manifest))
        store.delete([k for k in rec.get("replaces", ()) if k not in files])
        if rec.get("replaces_execution"):
            store.delete([execution_manifest_key(root, rec["replaces_execution"])])
    else:  # not committed: undo any promoted file no manifest lists
        keep = set(committed_files(store, root, pk)) if pk is not None else set()
        store.delete([k for k in files if k not in keep])


@dataclass
class RunCommit:
    """One run's staging area and commit on one store below ``root``."""

    store: FileStore
    root: str
    execution_id: str
    partition_key: str | None = None
    is_live: Callable[[dict[str, Any]], bool] = default_is_live
    staged: dict[str, str] = field(default_factory=dict)  # final key -> staging key

    def __post_init__(self) -> None:
        self.staging = self.store.staging_prefix(self.root, self.execution_id)
        self._record_key = _run_record_key(self.root, self.execution_id)
        self._started = time.time()

    def begin(self) -> None:
        recover(self.store, self.root, current_execution_id=self.execution_id, is_live=self.is_live)
        self._write_record("staging")

    def _write_record(self, phase: str, **extra: Any) -> None:
        rec = {
            "execution_id": self.execution_id,
            "partition_key": self.partition_key,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started_at": self._started,
            "phase": phase,
            **extra,
        }
        self.store.write_bytes(self._record_key, orjson.dumps(rec))

    def staging_key(self, final_key: str) -> str:
        """Register ``final_key`` and return where to stage it."""
        rel = final_key[len(self.root) :].lstrip("/") if self.root else final_key
        key = self.staging + rel
        self.staged[final_key] = key
        return key

    def commit(self, metadata: dict[str, Any] | None = None, files: Iterable[str] | None = None) -> list[str]:
        """Promote the staged files (all, or ``files``) and write the manifests; return final keys."""
        final = list(self.staged) if files is None else list(files)
        previous = (
            read_json(self.store, partition_manifest_key(self.root, self.partition_key))
            if (self.partition_key is not None)
            else None
        )
        replaces = list(previous["files"]) if previous else []
        replaces_exec = previous["execution_id"] if previous else None
        self._write_record("committing", files=final, replaces=replaces, replaces_execution=replaces_exec)
        for key in final:
            self.store.move(self.staged[key], key)
        manifest = {
            "execution_id": self.execution_id,
            "partition_key": self.partition_key,
            "committed_at": datetime.now(UTC).isoformat(),
            "files": final,
            **(metadata or {}),
        }
        data = orjson.dumps(manifest)
        self.store.write_bytes(execution_manifest_key(self.root, self.execution_id), data)  # commit point
        if self.partition_key is not None:
            self.store.write_bytes(partition_manifest_key(self.root, self.partition_key), data)
        keep = set(final)
        self.store.delete([k for k in replaces if k not in keep])
        if replaces_exec and replaces_exec != self.execution_id:
            self.store.delete([execution_manifest_key(self.root, replaces_exec)])
        self._cleanup()
        return final

    def abort(self) -> None:
        """Best effort: nothing of this run stays visible."""
        try:
            self._cleanup()
        except Exception:  # the next run's recovery removes what is left
            log.warning("could not remove staging area %s", self.store.url(self.staging), exc_info=True)

    def _cleanup(self) -> None:
        self.store.delete_prefix(self.staging)
        self.store.delete([self._record_key])
