"""The spec layer stays pure: importing it pulls in no Dagster and no connector/engine code."""

import subprocess
import sys


def test_spec_imports_no_dagster() -> None:
    code = (
        "import sys, appflow_dagster.spec, appflow_dagster.spec.parse;"
        "bad = [m for m in sys.modules if m == 'dagster' or m.startswith(('dagster.', 'appflow_dagster.connectors',"
        " 'appflow_dagster.engine', 'appflow_dagster.dagster_defs', 'httpx', 'polars'))];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
