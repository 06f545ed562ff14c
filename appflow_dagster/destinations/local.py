"""A bucket as a folder on the local filesystem (the demo's default destination)."""

import fcntl
import hashlib
import os
import shutil
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, cast

import pyarrow as pa

from appflow_dagster.destinations.base import StoreError, check_key, join_key

_STAGING = ".staging-"


class LocalFileStore:
    """``bucket`` is the folder ``root/bucket``; keys are paths below it.

    Staging lives in a hidden ``.staging-<execution_id>`` folder next to the final files (same
    filesystem), so promoting a file is one ``os.replace``.
    """

    def __init__(self, root: Path | str, bucket: str):
        if not bucket or "/" in bucket or bucket in (".", "..") or "\\" in bucket:
            raise StoreError(f"invalid bucket name: {bucket!r}")
        self.bucket = bucket
        self.base = (Path(root) / bucket).resolve()
        self.base.mkdir(parents=True, exist_ok=True)
        self.uri = self.base.as_uri()

    def _path(self, key: str) -> Path:
        path = self.base / check_key(key)
        if not path.resolve().is_relative_to(self.base):
            raise StoreError(f"key escapes the bucket: {key!r}")
        return path

    def open_write(self, key: str) -> BinaryIO:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # A native Arrow stream: Parquet pages are written without a round trip through Python.
        return cast(BinaryIO, pa.output_stream(str(path), buffer_size=1 << 20))

    def write_bytes(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".tmp-{uuid.uuid4().hex}-{path.name}")
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    def read_bytes(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def read_versioned(self, key: str) -> tuple[bytes, str]:
        """The content and its version token (a SHA-256), for :meth:`write_bytes_if`."""
        data = self.read_bytes(key)
        return data, hashlib.sha256(data).hexdigest()

    def write_bytes_if(self, key: str, data: bytes, token: str | None) -> bool:
        """Compare-and-swap: write ``key`` only if its content still has version ``token`` (absent
        when None). Writers of one key serialize on a lock file beside it (``flock``: processes of
        this host, or a filesystem that honours it)."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_name(f".{path.name}.lock"), "ab") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                current: str | None = hashlib.sha256(path.read_bytes()).hexdigest()
            except FileNotFoundError:
                current = None
            if current != token:
                return False
            self.write_bytes(key, data)
        return True

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def size(self, key: str) -> int:
        return self._path(key).stat().st_size

    def list(self, prefix: str) -> Iterator[str]:
        start = self.base / prefix if prefix else self.base
        if prefix:
            check_key(prefix)
        if start.is_file():
            yield prefix
            return
        for dirpath, _dirs, files in os.walk(start):
            for name in files:
                yield Path(dirpath, name).relative_to(self.base).as_posix()

    def move(self, src: str, dst: str) -> None:
        target = self._path(dst)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._path(src), target)

    def delete(self, keys: Sequence[str]) -> None:
        for key in keys:
            path = self._path(key)
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            self._prune(path.parent)

    def delete_prefix(self, prefix: str) -> None:
        path = self._path(prefix)
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
            self._prune(path.parent)
        elif path.is_file():
            self.delete([prefix])

    def _prune(self, folder: Path) -> None:
        """Remove folders left empty, up to the bucket (S3 has no empty folders either)."""
        while folder != self.base and folder.is_relative_to(self.base):
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

    def staging_prefix(self, root: str, execution_id: str) -> str:
        return join_key(root, f"{_STAGING}{execution_id}") + "/"

    def staging_areas(self, root: str) -> dict[str, str]:
        folder = self.base / root if root else self.base
        if not folder.is_dir():
            return {}
        return {
            p.name[len(_STAGING) :]: join_key(root, p.name) + "/"
            for p in folder.iterdir()
            if p.is_dir() and p.name.startswith(_STAGING)
        }

    def url(self, key: str) -> str:
        return (self.base / key).as_uri() if key else self.uri
