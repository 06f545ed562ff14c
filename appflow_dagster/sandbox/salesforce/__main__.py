"""``python -m appflow_dagster.sandbox.salesforce --host 127.0.0.1 --port 8765 --seed 7 --records 10000``.

``--page-cache-mb`` sizes the rendered-page cache (0 disables it); ``--prerender SOQL`` (repeatable)
renders a query's pages into it at start, on a background thread, and prints a second line when done.
``--tls`` serves https:// with a throwaway certificate; the ready line then ends with
``(CA file: PATH)``, the PEM a client trusts (e.g. ``requests`` ``verify=PATH``).
"""

import argparse
import json

from appflow_dagster.sandbox.salesforce.cache import DEFAULT_PAGE_CACHE_BYTES
from appflow_dagster.sandbox.salesforce.server import DEFAULT_PRERENDER_VERSION, serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m appflow_dagster.sandbox.salesforce",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--records", default="1000", help="records per object, or JSON like '{\"Account\": 1000000}'"
    )
    parser.add_argument(
        "--page-cache-mb",
        type=int,
        default=DEFAULT_PAGE_CACHE_BYTES >> 20,
        help="memory for rendered query pages, LRU (default %(default)s; 0 disables)",
    )
    parser.add_argument(
        "--prerender",
        action="append",
        default=[],
        metavar="SOQL",
        help="render this query's pages into the cache at start (repeatable)",
    )
    parser.add_argument(
        "--prerender-version",
        default=DEFAULT_PRERENDER_VERSION,
        help="API version of pre-rendered pages (default %(default)s)",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="serve https:// with a throwaway self-signed CA (printed in the ready line; needs cryptography)",
    )
    args = parser.parse_args(argv)
    records = json.loads(args.records) if args.records.strip().startswith("{") else int(args.records)
    serve(
        host=args.host,
        port=args.port,
        seed=args.seed,
        records=records,
        page_cache_bytes=args.page_cache_mb << 20,
        prerender=args.prerender,
        prerender_version=args.prerender_version.lstrip("v"),
        tls=args.tls,
    )


if __name__ == "__main__":
    main()
