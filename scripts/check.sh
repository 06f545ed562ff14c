#!/usr/bin/env bash
# The one check command: install, lint, type check, tests. `make test` and .ci/run call it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/system_deps.sh
.venv/bin/ruff check appflow_dagster tests bench
.venv/bin/ruff format --check appflow_dagster tests bench
.venv/bin/mypy
.venv/bin/pytest -q -p no:cacheprovider "$@"
