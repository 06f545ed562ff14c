"""Two no-framework clients, each run as its own process by ``bench.py``.

``ceiling``: GET every page and find ``nextRecordsUrl`` without parsing: the sandbox (plus httpx)
ceiling that no client can beat. ``raw``: the floor a hand-written loop reaches: ``orjson.loads``
each page, ``polars.from_dicts`` (minus ``attributes``) and a ``pyarrow.parquet.ParquetWriter``.
"""

import argparse
import re
import sys
import time
from pathlib import Path

import httpx
import orjson
import polars as pl
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Result, emit  # noqa: E402

_NEXT = re.compile(rb'"nextRecordsUrl"\s*:\s*"([^"]+)"')


def _client(url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120.0)


def ceiling(url: str, version: str, token: str, soql: str) -> tuple[int, int]:
    """Fetch every page; count records by the page-size arithmetic of ``totalSize``. Returns (records, bytes)."""
    nbytes = 0
    pages = 0
    total = 0
    with _client(url, token) as http:
        resp = http.get(f"/services/data/{version}/query", params={"q": soql})
        while True:
            resp.raise_for_status()
            body = resp.content
            nbytes += len(body)
            pages += 1
            if pages == 1:
                m = re.search(rb'"totalSize"\s*:\s*(\d+)', body)
                total = int(m.group(1)) if m else 0
            # nextRecordsUrl sits in the envelope: look in the head and tail only, never the records.
            m = _NEXT.search(body[:512]) or _NEXT.search(body[-512:])
            if m is None:
                break
            resp = http.get(m.group(1).decode())
    return total, nbytes


def raw(url: str, version: str, token: str, soql: str, out: Path) -> tuple[int, int]:
    """Page → orjson → polars → ParquetWriter. Returns (records, bytes written)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    writer: pq.ParquetWriter | None = None
    records = 0
    try:
        with _client(url, token) as http:
            next_url: str | None = f"/services/data/{version}/query?{httpx.QueryParams({'q': soql})}"
            while next_url:
                resp = http.get(next_url)
                resp.raise_for_status()
                page = orjson.loads(resp.content)
                rows = page["records"]
                for r in rows:
                    r.pop("attributes", None)
                if rows:
                    table = pl.from_dicts(rows, infer_schema_length=None).to_arrow()
                    if writer is None:
                        schema = table.schema
                        writer = pq.ParquetWriter(out, schema)
                    elif table.schema != schema:
                        table = table.cast(schema)
                    writer.write_table(table)
                    records += len(rows)
                next_url = None if page.get("done", True) else page.get("nextRecordsUrl")
    finally:
        if writer is not None:
            writer.close()
    return records, out.stat().st_size if out.exists() else 0


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["ceiling", "raw"])
    p.add_argument("--url", required=True)
    p.add_argument("--version", required=True)
    p.add_argument("--token", required=True)
    p.add_argument("--soql", required=True)
    p.add_argument("--out", type=Path, default=None)
    a = p.parse_args()
    t0 = time.perf_counter()
    if a.mode == "ceiling":
        n, nbytes = ceiling(a.url, a.version, a.token, a.soql)
        emit(Result("sandbox ceiling", n, time.perf_counter() - t0, extra={"http_bytes": nbytes}))
    else:
        n, nbytes = raw(a.url, a.version, a.token, a.soql, a.out)
        emit(Result("raw floor", n, time.perf_counter() - t0, bytes_written=nbytes))


if __name__ == "__main__":
    main()
