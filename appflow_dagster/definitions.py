"""The code location: every flow in ``APPFLOW_FLOWS_DIR`` (default ``./flows``) with connection
profiles from ``APPFLOW_CONNECTIONS_DIR`` (default ``./connections``)."""

import os

from appflow_dagster.dagster_defs.factory import definitions_from_folders

defs = definitions_from_folders(
    os.environ.get("APPFLOW_FLOWS_DIR", "flows"),
    os.environ.get("APPFLOW_CONNECTIONS_DIR", "connections"),
)
