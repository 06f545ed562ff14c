#!/usr/bin/env bash
# Create .venv and install the project with its pinned stack. Idempotent and quick when up to date.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
stamp=.venv/.installed
want=$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check "uv==$(grep '^uv==' constraints.txt | cut -d= -f3)"
.venv/bin/uv pip install --python .venv/bin/python -q -c constraints.txt -e '.[dev]'
echo "$want" > "$stamp"
