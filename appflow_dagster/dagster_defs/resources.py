"""The resource that hands the engine its connectors and file stores. Configuration only; clients
it returns know nothing of Dagster."""

import os
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_aws.s3 import S3Resource
from pydantic import Field

from appflow_dagster.connectors.base import SourceConnector
from appflow_dagster.spec.model import ConnectorProfile


class AppFlowResource(dg.ConfigurableResource):
    """Connection profiles and destinations for AppFlow flows.

    Secrets never pass through here: profiles hold references (``{{resolve:env:...}}`` or
    Secrets Manager ids) that connectors resolve when they connect.
    """

    connections_path: str = Field(default="connections", description="Folder or file of connection profiles.")
    local_root: str | None = Field(
        default=None, description="If set, S3 buckets are folders under this directory (APPFLOW_LOCAL_ROOT)."
    )
    s3_buckets: list[str] = Field(
        default_factory=list,
        description="Buckets that stay on S3 even when local_root is set (APPFLOW_S3_BUCKETS).",
    )
    s3: S3Resource | None = Field(
        default=None, description="boto3 S3 client settings (endpoint, region); boto3's defaults when unset."
    )
    secretsmanager_endpoint_url: str | None = None

    def profiles(self) -> dict[str, ConnectorProfile]:
        from appflow_dagster.spec.parse import load_connections

        path = Path(self.connections_path)
        if not path.exists():
            return {}
        return {p.name: p for p in load_connections([path])}

    def get_connector(self, connector_type: str, profile_name: str | None) -> SourceConnector:
        """A connected source client for the flow's connection profile."""
        from appflow_dagster.connectors import CONNECTORS

        if connector_type not in CONNECTORS:
            raise dg.Failure(f"source connector {connector_type!r} is not supported")
        profiles = self.profiles()
        if profile_name not in profiles:
            known = ", ".join(sorted(profiles)) or "none"
            raise dg.Failure(
                f"connection profile {profile_name!r} not found in {self.connections_path} (known: {known})"
            )
        return CONNECTORS[connector_type](
            profiles[profile_name], secretsmanager_client=self._secretsmanager()
        )

    def _secretsmanager(self) -> Any:
        import boto3

        return _LazyClient(
            lambda: boto3.client("secretsmanager", endpoint_url=self.secretsmanager_endpoint_url)
        )

    def store_resolver(self) -> Any:
        """A callable ``bucket -> FileStore`` following local_root / s3_buckets."""
        from appflow_dagster.destinations import StoreSettings, make_resolver

        settings = StoreSettings(local_root=self.local_root, s3_buckets=frozenset(self.s3_buckets))
        return make_resolver(settings, s3_client_factory=self.s3.get_client if self.s3 else None)


class _LazyClient:
    """Creates the boto3 client on first use, so profiles without Secrets Manager refs need no AWS setup."""

    def __init__(self, factory: Any):
        self._factory = factory
        self._client: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._client is None:
            self._client = self._factory()
        return getattr(self._client, name)


def resource_from_env(connections_path: str) -> AppFlowResource:
    """The resource as configured by environment variables (README, "Destinations")."""
    from appflow_dagster.destinations import StoreSettings

    stores = StoreSettings.from_env()
    return AppFlowResource(
        connections_path=connections_path,
        local_root=stores.local_root,
        s3_buckets=sorted(stores.s3_buckets),
        s3=S3Resource(endpoint_url=stores.s3_endpoint_url) if stores.s3_endpoint_url else None,
        secretsmanager_endpoint_url=os.environ.get("APPFLOW_SECRETSMANAGER_ENDPOINT_URL") or None,
    )
