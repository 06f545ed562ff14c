"""A bucket on S3 (or moto's server) through a plain boto3 S3 client.

The client comes from dagster-aws ``S3Resource.get_client()`` in Dagster code, or from
``boto3.client("s3", endpoint_url=...)`` elsewhere; this module never builds credentials itself.
"""

import tempfile
from collections.abc import Iterator, Sequence
from typing import IO, Any, BinaryIO, cast

from appflow_dagster.destinations.base import check_key, join_key

_STAGING = "_staging"
#: Objects are spooled in memory up to this size, then on local disk, before the upload.
_SPOOL_BYTES = 8 * 1024 * 1024


class _S3Upload:
    """A write stream spooled to a temporary file and uploaded when closed."""

    def __init__(self, client: Any, bucket: str, key: str):
        self._client, self._bucket, self._key = client, bucket, key
        self._buf: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    def write(self, data: Any) -> int:
        return self._buf.write(data)

    def tell(self) -> int:
        return self._buf.tell()

    def flush(self) -> None:
        self._buf.flush()

    def discard(self) -> None:
        """Drop the content without uploading (the run failed)."""
        if not self._closed:
            self._closed = True
            self._buf.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._buf.seek(0)
            self._client.upload_fileobj(self._buf, self._bucket, self._key)
        finally:
            self._buf.close()

    def __enter__(self) -> "_S3Upload":
        return self

    def __exit__(self, exc_type: object, *_: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.discard()


class S3FileStore:
    """One S3 bucket. Staging lives under ``<root>/_staging/<execution_id>/``; promotion is a
    server-side copy (multipart for large objects) followed by a delete."""

    def __init__(self, client: Any, bucket: str, *, conditional_writes: bool = True):
        self.client = client
        self.bucket = bucket
        self.uri = f"s3://{bucket}"
        #: S3 conditional puts (``If-Match`` / ``If-None-Match``) for manifests; turn off for an
        #: S3-compatible store without them (the commit then writes manifests unconditionally).
        self.conditional_writes = conditional_writes

    def open_write(self, key: str) -> BinaryIO:
        return cast(BinaryIO, _S3Upload(self.client, self.bucket, check_key(key)))

    def write_bytes(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=check_key(key), Body=data)

    def read_bytes(self, key: str) -> bytes:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=check_key(key))["Body"].read()
        except self.client.exceptions.NoSuchKey as e:
            raise FileNotFoundError(f"{self.uri}/{key}") from e

    def read_versioned(self, key: str) -> tuple[bytes, str]:
        """The content and its ETag, for :meth:`write_bytes_if`."""
        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=check_key(key))
        except self.client.exceptions.NoSuchKey as e:
            raise FileNotFoundError(f"{self.uri}/{key}") from e
        return obj["Body"].read(), str(obj["ETag"])

    def write_bytes_if(self, key: str, data: bytes, token: str | None) -> bool:
        """Compare-and-swap by a conditional put: ``If-Match: token``, or ``If-None-Match: *`` when
        ``token`` is None. False when another writer came first (412, 409, or the key is gone)."""
        if not self.conditional_writes:
            self.write_bytes(key, data)
            return True
        cond = {"IfMatch": token} if token is not None else {"IfNoneMatch": "*"}
        try:
            self.client.put_object(Bucket=self.bucket, Key=check_key(key), Body=data, **cond)
        except self.client.exceptions.ClientError as e:
            status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            code = e.response.get("Error", {}).get("Code")
            if status in (409, 412) or code in (
                "PreconditionFailed",
                "ConditionalRequestConflict",
                "NoSuchKey",
            ):
                return False
            raise
        return True

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=check_key(key))
        except self.client.exceptions.ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def size(self, key: str) -> int:
        return int(self.client.head_object(Bucket=self.bucket, Key=check_key(key))["ContentLength"])

    def list(self, prefix: str) -> Iterator[str]:
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            for obj in page.get("Contents", ()):
                yield obj["Key"]

    def move(self, src: str, dst: str) -> None:
        self.client.copy({"Bucket": self.bucket, "Key": check_key(src)}, self.bucket, check_key(dst))
        self.client.delete_object(Bucket=self.bucket, Key=src)

    def delete(self, keys: Sequence[str]) -> None:
        for i in range(0, len(keys), 1000):
            chunk = keys[i : i + 1000]
            if chunk:
                self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True}
                )

    def delete_prefix(self, prefix: str) -> None:
        self.delete(list(self.list(prefix)))

    def staging_prefix(self, root: str, execution_id: str) -> str:
        return join_key(root, _STAGING, execution_id) + "/"

    def staging_areas(self, root: str) -> dict[str, str]:
        base = join_key(root, _STAGING) + "/"
        paginator = self.client.get_paginator("list_objects_v2")
        out: dict[str, str] = {}
        for page in paginator.paginate(Bucket=self.bucket, Prefix=base, Delimiter="/"):
            for p in page.get("CommonPrefixes", ()):
                exec_id = p["Prefix"][len(base) :].rstrip("/")
                out[exec_id] = p["Prefix"]
        return out

    def url(self, key: str) -> str:
        return f"{self.uri}/{key}" if key else self.uri
