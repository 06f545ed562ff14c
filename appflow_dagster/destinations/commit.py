"""Atomic commit of one run's files to a store, with per-partition replacement and crash recovery.

Protocol, for one run below a flow ``root`` (``bucketPrefix/flowName``):

1. ``begin``: settle a record left by an earlier attempt of the *same* execution id (a Dagster
   step retry keeps the run id), recover dead runs of the same root, then write the run record
   ``_appflow/runs/<execution_id>.json`` (host, pid, a fresh ``attempt`` id, phase ``staging``).
2. The writer streams every file under the store's staging prefix (``.staging-<id>/`` locally,
   ``_staging/<id>/`` on S3), mirroring the final layout. Readers never look there.
3. ``commit``: rewrite the run record (phase ``committing``, the final keys, the keys it replaces),
   move each staged file to its final key, then write the commit manifest
   ``_appflow/executions/<execution_id>.json`` (with the attempt id) — **the commit point** — and,
   for a partitioned run, ``_appflow/partitions/<quoted key>.json``. Only then are the previous
   partition's keys that the new run does not list deleted, and the staging area and run record
   removed. If a step before the commit point fails, the run's promoted files are deleted at once
   (the run record lists them) and nothing of the run stays; if a step after it fails, the commit
   is rolled forward (and, should that fail too, the record stays for the next ``recover``).
4. ``abort``: remove the staging area and the run record (best effort) of a run not committing.

A run killed with ``kill -9`` leaves its run record; the next run of the flow rolls it back (before
the commit point: its staged and any promoted files are deleted) or forward (after it: the
replaced keys are deleted). A record is *dead* when its pid is gone on this host, or when it is older
than ``stale_after`` on another host (or ``is_live`` says so).

Concurrent runs of one partition: the partition manifest is re-read just before it is written; an
execution that committed the partition since this run read it is superseded (its keys and
execution manifest are deleted too), so the last writer of the manifest wins and nothing stays
orphaned. Stores with a compare-and-swap write (``read_versioned`` / ``write_bytes_if``: S3
conditional puts, a lock file locally) close the window between that re-read and the write; on a
store without one the window is a re-read and a put (milliseconds) wide, and a run that loses it
stays visible beside the winner until the partition is re-run.
"""

import logging
import os
import socket
import time
import uuid
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
_CAS_ATTEMPTS = 20


class CommitIncomplete(RuntimeError):
    """The run passed its commit point but could not finish (replace the previous output); its
    record stays, and the next ``recover`` (or a retry's ``begin``) rolls it forward."""


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


def _read_versioned(store: FileStore, key: str) -> tuple[Any | None, str | None]:
    """A manifest and the token a compare-and-swap write expects (None: absent, or no CAS)."""
    read = getattr(store, "read_versioned", None)
    if read is None:
        return read_json(store, key), None
    try:
        data, token = read(key)
    except FileNotFoundError:
        return None, None
    return orjson.loads(data), token


def _write_if(store: FileStore, key: str, data: bytes, token: str | None) -> bool:
    """Write ``key`` if it still is what ``token`` names (absent when None); unconditional on a
    store without compare-and-swap. False when another writer came first."""
    write = getattr(store, "write_bytes_if", None)
    if write is None:
        store.write_bytes(key, data)
        return True
    return bool(write(key, data, token))


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
            settle(store, root, rec)
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


def settle(store: FileStore, root: str, rec: dict[str, Any]) -> bool:
    """Finish (True) or undo (False) the commit a ``committing`` run record describes."""
    exec_id, pk = rec["execution_id"], rec.get("partition_key")
    files = set(rec.get("files", ()))
    manifest = read_json(store, execution_manifest_key(root, exec_id))
    # An execution manifest of another attempt of the same id (a retry) is not this commit's point.
    if manifest is not None and manifest.get("attempt") in (None, rec.get("attempt")):  # roll forward
        if pk is not None:
            current = read_json(store, partition_manifest_key(root, pk))
            mine = (rec.get("replaces_execution"), exec_id, *rec.get("supersedes", ()))
            if current is None or current.get("execution_id") in mine:
                store.write_bytes(partition_manifest_key(root, pk), orjson.dumps(manifest))
        store.delete([k for k in rec.get("replaces", ()) if k not in files])
        old = {rec.get("replaces_execution"), *rec.get("supersedes", ())} - {None, exec_id}
        store.delete([execution_manifest_key(root, e) for e in sorted(old)])
        return True
    # not committed: undo every promoted file no manifest lists
    if pk is not None:
        keep = set(committed_files(store, root, pk))
    else:
        keep = set(manifest["files"]) if manifest else set()
    store.delete([k for k in files if k not in keep])
    return False


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
        self._attempt = uuid.uuid4().hex
        self._record: dict[str, Any] = {}
        self._state = "new"  # new -> staging -> committing -> done

    def begin(self) -> None:
        own = read_json(self.store, self._record_key)
        if own is not None:  # an earlier attempt of this execution id died: settle it first
            if own.get("phase") == "committing":
                settle(self.store, self.root, own)
            log.info(
                "settled an earlier attempt of %s below %s", self.execution_id, self.store.url(self.root)
            )
            self.store.delete([self._record_key])
        self.store.delete_prefix(self.staging)
        recover(self.store, self.root, current_execution_id=self.execution_id, is_live=self.is_live)
        self._write_record("staging")
        self._state = "staging"

    def _write_record(self, phase: str, **extra: Any) -> None:
        self._record = {
            "execution_id": self.execution_id,
            "partition_key": self.partition_key,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "started_at": self._started,
            "attempt": self._attempt,
            "phase": phase,
            **extra,
        }
        self.store.write_bytes(self._record_key, orjson.dumps(self._record))

    def staging_key(self, final_key: str) -> str:
        """Register ``final_key`` and return where to stage it."""
        rel = final_key[len(self.root) :].lstrip("/") if self.root else final_key
        key = self.staging + rel
        self.staged[final_key] = key
        return key

    def _previous(self) -> Any | None:
        """The manifest this commit replaces: the partition's, or (unpartitioned) one an earlier
        attempt of the same execution id committed."""
        if self.partition_key is not None:
            return read_json(self.store, partition_manifest_key(self.root, self.partition_key))
        return read_json(self.store, execution_manifest_key(self.root, self.execution_id))

    def commit(
        self,
        metadata: dict[str, Any] | None = None,
        files: Iterable[str] | None = None,
        *,
        then: Callable[[], None] | None = None,
    ) -> list[str]:
        """Promote the staged files (all, or ``files``) and write the manifests; return final keys.

        ``then`` runs after this commit point and before anything previous is replaced: when it
        raises (other than :class:`CommitIncomplete`), this commit is undone and the error
        propagates, so ``then``'s own commit decides for both.
        """
        final = list(self.staged) if files is None else list(files)
        previous = self._previous()
        replaces = list(previous["files"]) if previous else []
        replaces_exec = previous.get("execution_id") if previous else None
        self._write_record("committing", files=final, replaces=replaces, replaces_execution=replaces_exec)
        self._state = "committing"
        manifest = {
            "execution_id": self.execution_id,
            "partition_key": self.partition_key,
            "attempt": self._attempt,
            "files": final,
            **(metadata or {}),
        }
        pending: CommitIncomplete | None = None
        try:
            for key in final:
                self.store.move(self.staged[key], key)
            manifest["committed_at"] = datetime.now(UTC).isoformat()
            self.store.write_bytes(
                execution_manifest_key(self.root, self.execution_id), orjson.dumps(manifest)
            )
            # ^ the commit point
            if then is not None:
                try:
                    then()
                except CommitIncomplete as e:  # committed there: finish here too, then report
                    pending = e
        except BaseException:
            self._undo()
            raise
        try:
            self._publish(manifest, replaces, replaces_exec)
        except Exception as e:
            log.warning(
                "finishing the commit of %s failed; rolling forward", self.execution_id, exc_info=True
            )
            try:
                settle(self.store, self.root, self._record)
                self._cleanup()
            except Exception as again:
                self._state = "done"
                raise CommitIncomplete(f"{self.store.url(self.root)}: {self.execution_id}: {e}") from again
        self._state = "done"
        if pending is not None:
            raise pending
        return final

    def _undo(self) -> None:
        """Nothing replaced yet: delete what this run promoted and its execution manifest (if
        written, or if a put that raised did land), so exactly the previous state stays."""
        self._state = "done"
        try:
            key = execution_manifest_key(self.root, self.execution_id)
            mine = read_json(self.store, key)
            if mine is not None and mine.get("attempt") == self._attempt:
                self.store.delete([key])
            settle(self.store, self.root, self._record)
            self._cleanup()
        except Exception:  # the next run's recovery (or a retry's begin) settles the record
            log.warning(
                "could not roll back %s below %s", self.execution_id, self.store.url(self.root), exc_info=True
            )

    def _publish(self, manifest: dict[str, Any], replaces: list[str], replaces_exec: str | None) -> None:
        """After the commit point: point the partition at this run, delete what it replaces."""
        doomed, superseded = list(replaces), list[str]()
        if self.partition_key is not None:
            key = partition_manifest_key(self.root, self.partition_key)
            data = orjson.dumps(manifest)
            for _ in range(_CAS_ATTEMPTS):
                current, token = _read_versioned(self.store, key)
                other: str | None = current.get("execution_id") if current else None
                if (
                    current is not None
                    and other
                    and other not in (replaces_exec, self.execution_id, *superseded)
                ):
                    # Another execution committed this partition since we read it: the later
                    # commit (this one) supersedes it. Record it first, for roll-forward.
                    superseded.append(other)
                    doomed.extend(current["files"])
                    self._write_record("committing", files=manifest["files"], replaces=doomed,
                                       replaces_execution=replaces_exec, supersedes=superseded)  # fmt: skip
                if _write_if(self.store, key, data, token):
                    break
            else:
                raise RuntimeError(f"{self.store.url(key)}: still contended after {_CAS_ATTEMPTS} attempts")
        keep = set(manifest["files"])
        self.store.delete([k for k in dict.fromkeys(doomed) if k not in keep])
        old = {e for e in (replaces_exec, *superseded) if e and e != self.execution_id}
        self.store.delete([execution_manifest_key(self.root, e) for e in sorted(old)])
        self._cleanup()

    def abort(self) -> None:
        """Best effort: nothing of this run stays visible (a commit settles itself)."""
        if self._state not in ("new", "staging"):
            return
        try:
            self._cleanup()
        except Exception:  # the next run's recovery removes what is left
            log.warning("could not remove staging area %s", self.store.url(self.staging), exc_info=True)

    def _cleanup(self) -> None:
        self.store.delete_prefix(self.staging)
        self.store.delete([self._record_key])
