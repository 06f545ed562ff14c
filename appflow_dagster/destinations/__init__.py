"""File stores (local filesystem, S3) and how a flow's bucket name picks one.

Configuration, by environment (read by :func:`resolver_from_env`):

``APPFLOW_LOCAL_ROOT``
    A folder. When set, every bucket is the folder ``$APPFLOW_LOCAL_ROOT/<bucket>`` (the demo's
    default; no AWS needed) unless the bucket is listed in ``APPFLOW_S3_BUCKETS``.
``APPFLOW_S3_BUCKETS``
    Comma-separated bucket names that always go to S3, even when ``APPFLOW_LOCAL_ROOT`` is set.
``APPFLOW_S3_ENDPOINT_URL``
    The S3 endpoint for buckets that go to S3 (e.g. moto's server on 127.0.0.1); AWS when unset.

When ``APPFLOW_LOCAL_ROOT`` is unset every bucket goes to S3.
"""

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appflow_dagster.destinations.base import FileStore, StoreError, join_key
from appflow_dagster.destinations.local import LocalFileStore
from appflow_dagster.destinations.s3 import S3FileStore

__all__ = [
    "FileStore",
    "LocalFileStore",
    "S3FileStore",
    "StoreError",
    "StoreResolver",
    "StoreSettings",
    "join_key",
    "make_resolver",
    "resolver_from_env",
    "store_for",
]

#: ``bucket -> FileStore``; what the transfer loop takes to find the destination and error stores.
StoreResolver = Callable[[str], FileStore]


def _default_s3_client(endpoint_url: str | None = None) -> Any:
    import boto3

    return boto3.client("s3", endpoint_url=endpoint_url) if endpoint_url else boto3.client("s3")


def store_for(
    bucket: str,
    *,
    local_root: Path | str | None = None,
    s3_client_factory: Callable[[], Any] | None = None,
    s3_buckets: frozenset[str] | set[str] = frozenset(),
) -> FileStore:
    """The store for ``bucket``: a local folder under ``local_root`` unless ``bucket`` is in
    ``s3_buckets`` or no ``local_root`` is given, in which case S3 through ``s3_client_factory()``."""
    if local_root is not None and bucket not in s3_buckets:
        return LocalFileStore(local_root, bucket)
    client = s3_client_factory() if s3_client_factory is not None else _default_s3_client()
    return S3FileStore(client, bucket)


@dataclass(frozen=True)
class StoreSettings:
    """Where buckets land: see the module docstring for the environment variables."""

    local_root: str | None = None
    s3_buckets: frozenset[str] = frozenset()
    s3_endpoint_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "StoreSettings":
        environ = os.environ if env is None else env
        buckets = environ.get("APPFLOW_S3_BUCKETS", "")
        return cls(
            local_root=environ.get("APPFLOW_LOCAL_ROOT") or None,
            s3_buckets=frozenset(b.strip() for b in buckets.split(",") if b.strip()),
            s3_endpoint_url=environ.get("APPFLOW_S3_ENDPOINT_URL") or None,
        )


def make_resolver(
    settings: StoreSettings, s3_client_factory: Callable[[], Any] | None = None
) -> StoreResolver:
    """A resolver for ``settings``; one S3 client, created on first use, serves every bucket.

    ``s3_client_factory`` (e.g. ``S3Resource(...).get_client``) wins over ``s3_endpoint_url``.
    """
    factory = s3_client_factory or (lambda: _default_s3_client(settings.s3_endpoint_url))
    clients: dict[str, Any] = {}

    def cached_factory() -> Any:
        if "c" not in clients:
            clients["c"] = factory()
        return clients["c"]

    def resolve(bucket: str) -> FileStore:
        return store_for(
            bucket,
            local_root=settings.local_root,
            s3_client_factory=cached_factory,
            s3_buckets=settings.s3_buckets,
        )

    return resolve


def resolver_from_env(
    s3_client_factory: Callable[[], Any] | None = None, env: Mapping[str, str] | None = None
) -> StoreResolver:
    """A resolver configured by ``APPFLOW_LOCAL_ROOT``, ``APPFLOW_S3_BUCKETS``, ``APPFLOW_S3_ENDPOINT_URL``."""
    return make_resolver(StoreSettings.from_env(env), s3_client_factory)
