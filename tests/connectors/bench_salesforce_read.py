"""Records/s of ``SalesforceConnector.read`` against the sandbox in its own process (not a test).

    .venv/bin/python tests/connectors/bench_salesforce_read.py --records 1000000

Runs, each in a fresh child process: the raw floor (bench/raw_client.py: orjson + polars.from_dicts +
ParquetWriter), and the connector's read of every Account field into a ParquetWriter, with and
without the prefetch thread. Prints one line per run and the ratio to the floor.
"""

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

CHILD = """
import sys, time, pyarrow.parquet as pq
from appflow_dagster.connectors.salesforce import SalesforceConnector
from appflow_dagster.connectors.salesforce_auth import SalesforceAuth
from appflow_dagster.connectors.secrets import Secret
url, token, prefetch, out = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4]
t0 = time.perf_counter(); n = 0; writer = None
with SalesforceConnector(SalesforceAuth(url, access_token=Secret(token)), prefetch=prefetch) as sf:
    for batch in sf.read("Account"):
        if writer is None:
            writer = pq.ParquetWriter(out, batch.schema)
        writer.write_batch(batch); n += batch.num_rows
writer.close()
print(n, time.perf_counter() - t0)
"""


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def main() -> None:
    from common import WORK, Sandbox, access_token, soql_all_fields

    p = argparse.ArgumentParser()
    p.add_argument("--records", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=2)
    a = p.parse_args()
    py = str(ROOT / ".venv" / "bin" / "python")
    WORK.mkdir(parents=True, exist_ok=True)
    with Sandbox(a.records) as sb:
        token = access_token(sb.url)
        soql = soql_all_fields(sb.url, "v58.0", token)
        for _ in range(a.repeat):
            c0 = _cpu()
            raw = subprocess.run(
                [
                    py,
                    str(ROOT / "bench" / "raw_client.py"),
                    "raw",
                    "--url",
                    sb.url,
                    "--version",
                    "v58.0",
                    "--token",
                    token,
                    "--soql",
                    soql,
                    "--out",
                    str(WORK / "raw.parquet"),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            res = json.loads(raw.stdout.strip().splitlines()[-1])
            floor = res["records"] / res["seconds"]
            cpu_floor = res["records"] / (_cpu() - c0)
            print(f"raw floor: {floor:,.0f} records/s, {cpu_floor:,.0f} records per CPU-second")
            for prefetch in ("1", "0"):
                c0 = _cpu()
                out = subprocess.run(
                    [py, "-c", CHILD, sb.url, token, prefetch, str(WORK / "connector.parquet")],
                    capture_output=True,
                    text=True,
                    check=True,
                    cwd=ROOT,
                )
                n, secs = out.stdout.split()
                rate = int(n) / float(secs)
                cpu_rate = int(n) / (_cpu() - c0)
                print(
                    f"connector prefetch={prefetch}: {int(n):,} records in {float(secs):.2f} s = {rate:,.0f} records/s "
                    f"({rate / floor:.2f}x floor); {cpu_rate:,.0f} records per CPU-second ({cpu_rate / cpu_floor:.2f}x)"
                )


if __name__ == "__main__":
    main()
