"""File stores the writer commits to: the local filesystem and S3. No Dagster imports."""

from collections.abc import Iterator
from typing import BinaryIO, Protocol, runtime_checkable


@runtime_checkable
class FileStore(Protocol):
    """A bucket-like store addressed by ``key`` (``/``-separated, no leading slash).

    Writers put every file of a run under a staging prefix, then ``commit`` makes them visible
    under their final keys in one step as far as the store allows, and removes what the commit
    replaces. Nothing under a staging prefix is ever visible to readers of the final prefix.
    """

    #: e.g. ``s3://bucket`` or ``file:///abs/root/bucket``
    uri: str

    def open_write(self, key: str) -> BinaryIO: ...

    def list(self, prefix: str) -> Iterator[str]: ...

    def delete(self, keys: list[str]) -> None: ...

    def read_bytes(self, key: str) -> bytes: ...

    def url(self, key: str) -> str: ...
