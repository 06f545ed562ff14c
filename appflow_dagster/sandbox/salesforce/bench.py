"""Pages/s and records/s of the sandbox through one ``httpx.Client`` (bodies read, not parsed).

    .venv/bin/python -m appflow_dagster.sandbox.salesforce.bench --records 1000000

Starts the sandbox in a child process (so client and server do not share a GIL), takes a token,
and pages through ``SELECT FIELDS(STANDARD) FROM Account`` following ``nextRecordsUrl``.
"""

import argparse
import json
import re
import subprocess
import sys
import time

import httpx

_NEXT = re.compile(rb'"nextRecordsUrl":"([^"]+)"')


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--records", type=int, default=1_000_000)
    p.add_argument("--port", type=int, default=8799)
    p.add_argument("--soql", default="SELECT FIELDS(STANDARD) FROM Account")
    a = p.parse_args(argv)
    records = json.dumps({"Account": a.records, "Contact": 10, "Opportunity": 10, "Lead": 10, "Case": 10})
    proc = subprocess.Popen([sys.executable, "-m", "appflow_dagster.sandbox.salesforce", "--port", str(a.port), "--records", records],
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split(" on ")[1].strip()
        with httpx.Client(base_url=url, timeout=60) as c:
            token = c.post("/services/oauth2/token", data={"grant_type": "client_credentials", "client_id": "appflow-sandbox",
                                                           "client_secret": "appflow-sandbox-secret"}).json()["access_token"]
            h = {"Authorization": f"Bearer {token}"}
            t = time.perf_counter()
            body = c.get("/services/data/v59.0/query", params={"q": a.soql}, headers=h).content
            pages, nbytes = 1, len(body)
            while m := _NEXT.search(body[:300]):
                body = c.get(m.group(1).decode(), headers=h).content
                pages, nbytes = pages + 1, nbytes + len(body)
            d = time.perf_counter() - t
        total = int(re.search(rb'"totalSize":(\d+)', body).group(1))  # type: ignore[union-attr]
        print(f"{pages} pages, {total} records, {nbytes / 1e6:.0f} MB in {d:.2f}s: "
              f"{pages / d:.0f} pages/s, {total / d:,.0f} records/s, {nbytes / d / 1e6:.0f} MB/s")
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
