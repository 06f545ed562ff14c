"""Pages/s and records/s of the sandbox through one ``httpx.Client`` (bodies read, not parsed).

    .venv/bin/python -m appflow_dagster.sandbox.salesforce.bench --records 1000000 [--runs 3] [--prerender]

Starts the sandbox in a child process (so client and server do not share a GIL), takes a token,
and pages through ``SELECT FIELDS(STANDARD) FROM Account`` following ``nextRecordsUrl``, ``--runs``
times: the first pull renders pages (cold, unless ``--prerender`` waited for them to be rendered at
start), later pulls of the same query are served from the page cache (warm).
"""

import argparse
import json
import re
import subprocess
import sys
import time

import httpx

_NEXT = re.compile(rb'"nextRecordsUrl":"([^"]+)"')


def pull(c: httpx.Client, version: str, soql: str, headers: dict[str, str]) -> str:
    t = time.perf_counter()
    body = c.get(f"/services/data/v{version}/query", params={"q": soql}, headers=headers).content
    pages, nbytes = 1, len(body)
    while m := _NEXT.search(body[:300]):
        body = c.get(m.group(1).decode(), headers=headers).content
        pages, nbytes = pages + 1, nbytes + len(body)
    d = time.perf_counter() - t
    total = int(re.search(rb'"totalSize":(\d+)', body).group(1))  # type: ignore[union-attr]
    return (
        f"{pages} pages, {total} records, {nbytes / 1e6:.0f} MB in {d:.2f}s: "
        f"{pages / d:.0f} pages/s, {total / d:,.0f} records/s, {nbytes / d / 1e6:.0f} MB/s"
    )


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--records", type=int, default=1_000_000)
    p.add_argument("--port", type=int, default=8799)
    p.add_argument("--soql", default="SELECT FIELDS(STANDARD) FROM Account")
    p.add_argument("--version", default="58.0")
    p.add_argument(
        "--runs",
        type=int,
        default=2,
        help="pulls of the same query: the first cold, the rest from the page cache",
    )
    p.add_argument(
        "--prerender", action="store_true", help="render the query's pages at sandbox start and wait for them"
    )
    p.add_argument("--page-cache-mb", type=int, default=None)
    a = p.parse_args(argv)
    records = json.dumps({"Account": a.records, "Contact": 10, "Opportunity": 10, "Lead": 10, "Case": 10})
    cmd = [
        sys.executable,
        "-m",
        "appflow_dagster.sandbox.salesforce",
        "--port",
        str(a.port),
        "--records",
        records,
    ]
    if a.prerender:
        cmd += ["--prerender", a.soql, "--prerender-version", a.version]
    if a.page_cache_mb is not None:
        cmd += ["--page-cache-mb", str(a.page_cache_mb)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split(" on ")[1].strip()
        if a.prerender:
            print(proc.stdout.readline().strip(), flush=True)
        with httpx.Client(base_url=url, timeout=60) as c:
            token = c.post(
                "/services/oauth2/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": "appflow-sandbox",
                    "client_secret": "appflow-sandbox-secret",
                },
            ).json()["access_token"]
            h = {"Authorization": f"Bearer {token}"}
            for run in range(a.runs):
                label = "warm" if run or a.prerender else "cold"
                print(f"run {run + 1} ({label}): {pull(c, a.version, a.soql, h)}", flush=True)
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
