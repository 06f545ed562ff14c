"""File stores the writer commits to: the local filesystem and S3. No Dagster imports.

A store is one bucket addressed by ``key`` (``/``-separated, no leading slash). Writers put every
file of a run under a *staging prefix* the store chooses (hidden from readers of the final prefix),
then :mod:`appflow_dagster.destinations.commit` moves them to their final keys and writes manifests.
"""

from collections.abc import Iterator, Sequence
from typing import BinaryIO, Protocol, runtime_checkable


class StoreError(RuntimeError):
    """A store refused an operation (bad key, missing bucket, permission)."""


@runtime_checkable
class FileStore(Protocol):
    """A bucket-like store. ``open_write`` streams; ``write_bytes`` is atomic per key."""

    #: e.g. ``s3://bucket`` or ``file:///abs/root/bucket``
    uri: str

    def open_write(self, key: str) -> BinaryIO:
        """A writable stream whose content lands at ``key`` when closed (``discard`` if present drops it)."""
        ...

    def write_bytes(self, key: str, data: bytes) -> None:
        """Write a small object atomically (manifests)."""
        ...

    def read_bytes(self, key: str) -> bytes:
        """Raise ``FileNotFoundError`` when the key does not exist."""
        ...

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int: ...

    def list(self, prefix: str) -> Iterator[str]:
        """Every key under ``prefix`` (recursively), staging areas included."""
        ...

    def move(self, src: str, dst: str) -> None:
        """Make ``src``'s content visible at ``dst`` and remove ``src`` (rename / copy + delete)."""
        ...

    def delete(self, keys: Sequence[str]) -> None:
        """Delete keys; missing keys are not an error."""
        ...

    def delete_prefix(self, prefix: str) -> None: ...

    def staging_prefix(self, root: str, execution_id: str) -> str:
        """Where a run stages its files below ``root``; ends with ``/``."""
        ...

    def staging_areas(self, root: str) -> dict[str, str]:
        """Staging prefixes present below ``root``, by execution id (for crash recovery)."""
        ...

    def url(self, key: str) -> str: ...


def join_key(*parts: str | None) -> str:
    """Join key segments with ``/``, skipping empty ones and stray slashes."""
    out: list[str] = []
    for p in parts:
        if p:
            out.extend(s for s in p.split("/") if s)
    return "/".join(out)


def check_key(key: str) -> str:
    """Refuse keys that could escape their bucket (``..``, absolute paths, NUL)."""
    if not key or key.startswith("/") or "\x00" in key or "\\" in key:
        raise StoreError(f"invalid key: {key!r}")
    if any(seg in ("", ".", "..") for seg in key.rstrip("/").split("/")):
        raise StoreError(f"invalid key: {key!r}")
    return key
