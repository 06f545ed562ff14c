#!/usr/bin/env bash
# The benchmark suite (`make bench`): this project vs a raw loop vs dlt against the Salesforce
# sandbox. Options pass through: `bash bench/run.sh --quick`, `--records N`, `--help`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
mkdir -p bench/.work
exec .venv/bin/python bench/bench.py "$@"
