"""Salesforce REST API sandbox: ``SalesforceSandbox`` (background server) and ``serve`` (blocking)."""

from appflow_dagster.sandbox.salesforce.server import SalesforceSandbox, serve

__all__ = ["SalesforceSandbox", "serve"]
