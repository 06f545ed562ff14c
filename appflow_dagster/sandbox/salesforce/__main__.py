"""``python -m appflow_dagster.sandbox.salesforce --host 127.0.0.1 --port 8765 --seed 7 --records 10000``."""

import argparse
import json

from appflow_dagster.sandbox.salesforce.server import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m appflow_dagster.sandbox.salesforce", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--records", default="1000", help='records per object, or JSON like \'{"Account": 1000000}\'')
    args = parser.parse_args(argv)
    records = json.loads(args.records) if args.records.strip().startswith("{") else int(args.records)
    serve(host=args.host, port=args.port, seed=args.seed, records=records)


if __name__ == "__main__":
    main()
