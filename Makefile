.PHONY: demo test check bench fmt

demo:  ## the Dagster UI on http://127.0.0.1:3000 with the demo flows
	bash scripts/demo.sh

test:  ## install, lint, type check and run every test
	bash scripts/check.sh

check: test

bench:  ## throughput and memory against dlt and a raw floor
	bash bench/run.sh

fmt:
	.venv/bin/ruff format appflow_dagster tests bench
	.venv/bin/ruff check --fix appflow_dagster tests bench
