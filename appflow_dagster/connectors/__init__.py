"""Source connectors, one module per SaaS. ``CONNECTORS`` maps an AppFlow ``connectorType`` to a
factory ``(profile, *, secretsmanager_client=None) -> SourceConnector``. No Dagster imports here."""

from collections.abc import Callable
from typing import Any

from appflow_dagster.connectors.base import SourceConnector
from appflow_dagster.connectors.salesforce import connector_from_profile as _salesforce
from appflow_dagster.spec.model import ConnectorProfile

ConnectorFactory = Callable[..., SourceConnector]

CONNECTORS: dict[str, ConnectorFactory] = {
    "Salesforce": _salesforce,
}


def connect(profile: ConnectorProfile, *, secretsmanager_client: Any = None) -> SourceConnector:
    """The connector for ``profile.connector_type`` (unknown types are refused by name)."""
    factory = CONNECTORS.get(profile.connector_type)
    if factory is None:
        raise KeyError(f"no source connector for {profile.connector_type!r} (known: {sorted(CONNECTORS)})")
    return factory(profile, secretsmanager_client=secretsmanager_client)


__all__ = ["CONNECTORS", "ConnectorFactory", "connect"]
