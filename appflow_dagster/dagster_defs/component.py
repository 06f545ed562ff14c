"""A Dagster component that drops a folder of AppFlow flow files into an existing Dagster project.

In a project's ``defs/appflow/defs.yaml``::

    type: appflow_dagster.dagster_defs.component.AppFlowComponent
    attributes:
      flows_path: flows            # relative to the defs.yaml folder
      connections_path: connections

Destinations follow the same environment variables as the code location (README, "Destinations").
"""

from pathlib import Path

import dagster as dg

from appflow_dagster.dagster_defs.factory import build_definitions
from appflow_dagster.dagster_defs.resources import resource_from_env


class AppFlowComponent(dg.Component, dg.Model, dg.Resolvable):
    """AppFlow flows (CreateFlow documents or CloudFormation templates) as assets, checks and schedules."""

    flows_path: str = "flows"
    connections_path: str = "connections"

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        from appflow_dagster.spec.parse import load_flows

        base = Path(context.path)
        flows_dir = base / self.flows_path
        flows = load_flows([flows_dir]) if flows_dir.exists() else []
        return build_definitions(flows, resource_from_env(str(base / self.connections_path)))
