#!/usr/bin/env bash
# The demo: the Salesforce sandbox on 127.0.0.1 and the Dagster UI on http://127.0.0.1:3000 with
# the flows in ./flows, landing files under ./data. No credentials needed: the sandbox's demo
# client is public by design. Set APPFLOW_S3_ENDPOINT_URL (and AWS_* variables) to send the
# demo's S3 bucket appflow-demo-s3 to a real S3 endpoint instead.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export DAGSTER_HOME="${DAGSTER_HOME:-$PWD/.dagster_home}"
mkdir -p "$DAGSTER_HOME"
[ -f "$DAGSTER_HOME/dagster.yaml" ] || cp .dagster_home/dagster.yaml "$DAGSTER_HOME/"
export APPFLOW_LOCAL_ROOT="${APPFLOW_LOCAL_ROOT:-$PWD/data}"
if [ -n "${APPFLOW_S3_ENDPOINT_URL:-}" ]; then export APPFLOW_S3_BUCKETS="${APPFLOW_S3_BUCKETS:-appflow-demo-s3}"; fi
sandbox_port="${APPFLOW_SANDBOX_PORT:-8765}"
ui_port="${APPFLOW_UI_PORT:-3000}"
export APPFLOW_DEMO_SALESFORCE_URL="http://127.0.0.1:${sandbox_port}"
export APPFLOW_DEMO_SALESFORCE_REFRESH_TOKEN="appflow-sandbox-refresh"
export APPFLOW_DEMO_SALESFORCE_CLIENT_CREDENTIALS='{"clientId":"appflow-sandbox","clientSecret":"appflow-sandbox-secret"}'
mkdir -p "$APPFLOW_LOCAL_ROOT"

set -m
.venv/bin/appflow-dagster sandbox --host 127.0.0.1 --port "$sandbox_port" --records "${APPFLOW_SANDBOX_RECORDS:-20000}" &
sandbox_pid=$!
dagster_pid=""
cleanup() {
  # Each server runs in its own process group (set -m): stop the whole group, and if it has not
  # exited after 20 s (a dagster dev that inherited an ignored SIGINT, say), kill it.
  local groups=("$sandbox_pid")
  [ -n "$dagster_pid" ] && groups+=("$dagster_pid")
  for g in "${groups[@]}"; do kill -TERM -- "-$g" 2>/dev/null || true; done
  for _ in $(seq 1 40); do
    alive=0
    for g in "${groups[@]}"; do kill -0 -- "-$g" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.5
  done
  for g in "${groups[@]}"; do kill -KILL -- "-$g" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM
for _ in $(seq 1 100); do
  .venv/bin/python -c "import httpx,sys; httpx.get('$APPFLOW_DEMO_SALESFORCE_URL/services/data/', timeout=1)" 2>/dev/null && break
  sleep 0.2
done
echo "Dagster UI: http://127.0.0.1:${ui_port}  (sandbox: $APPFLOW_DEMO_SALESFORCE_URL, files: $APPFLOW_LOCAL_ROOT)"
.venv/bin/dagster dev -h 127.0.0.1 -p "$ui_port" -w workspace.yaml &
dagster_pid=$!
wait "$dagster_pid"
