"""The dlt baseline: dlt's ``rest_api`` source → ``filesystem`` destination, Parquet files.

Run by ``bench.py`` with ``bench/.work/dlt-venv/bin/python`` (dlt lives in its own virtualenv);
imports only dlt and the standard library. Configured the way dlt's docs show for a REST API: a
bearer token, a ``json_link`` paginator on ``nextRecordsUrl`` (relative, joined to the sandbox's
base URL) and ``data_selector: records``. dlt's defaults otherwise (``attributes`` is flattened
into ``attributes__type`` / ``attributes__url`` columns, as dlt does with nested objects).
"""

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

# No telemetry (there is no network beyond 127.0.0.1 here), and keep dlt's state under .work.
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")
os.environ.setdefault("RUNTIME__LOG_LEVEL", "WARNING")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Result, emit  # noqa: E402


def run(url: str, version: str, token: str, soql: str, out: Path) -> tuple[int, int]:
    import dlt
    from dlt.sources.rest_api import rest_api_source

    shutil.rmtree(out, ignore_errors=True)
    pipelines_dir = out / "_pipelines"
    source = rest_api_source(
        {
            "client": {
                "base_url": url,
                "auth": {"type": "bearer", "token": token},
                "paginator": {"type": "json_link", "next_url_path": "nextRecordsUrl"},
            },
            "resources": [
                {
                    "name": "account",
                    "write_disposition": "append",
                    "endpoint": {
                        "path": f"services/data/{version}/query",
                        "params": {"q": soql},
                        "data_selector": "records",
                    },
                }
            ],
        }
    )
    pipeline = dlt.pipeline(
        pipeline_name="bench_salesforce",
        pipelines_dir=str(pipelines_dir),
        destination=dlt.destinations.filesystem(bucket_url=(out / "data").as_uri()),
        dataset_name="salesforce",
    )
    pipeline.run(source, loader_file_format="parquet")
    rows = pipeline.last_trace.last_normalize_info.row_counts.get("account", 0)
    nbytes = sum(p.stat().st_size for p in (out / "data").rglob("*.parquet"))
    return int(rows), nbytes


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--version", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--soql", required=True)
    p.add_argument("--out", type=Path, required=True)
    a = p.parse_args()
    import dlt

    t0 = time.perf_counter()
    n, nbytes = run(a.url, a.version, a.token, a.soql, a.out)
    emit(Result("dlt", n, time.perf_counter() - t0, bytes_written=nbytes, note=f"dlt {dlt.__version__}"))


if __name__ == "__main__":
    main()
