"""This project's client: the flow transfer through the engine, nothing of Dagster loaded.

Run by ``bench.py`` as its own process (so its peak RSS is the transfer's alone). The flow and
connection are files under ``bench/.work``, read by the project's public parser; the connector
comes from the connection profile, the destination bucket is a folder under ``--out``.
``--profile FILE`` writes a cProfile of the transfer there.
"""

import argparse
import cProfile
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Result, emit  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--flows", type=Path, required=True)
    p.add_argument("--connections", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--label", default="appflow_dagster")
    p.add_argument("--profile", type=Path, default=None)
    a = p.parse_args()

    from appflow_dagster.connectors import connect
    from appflow_dagster.destinations import store_for
    from appflow_dagster.engine.transfer import run_transfer
    from appflow_dagster.spec.parse import load_connections, load_flows

    (flow,) = load_flows([a.flows])
    profiles = {c.name: c for c in load_connections([a.connections])}
    connector = connect(profiles[flow.source.connector_profile_name])
    out = a.out

    def transfer():  # type: ignore[no-untyped-def]
        return run_transfer(
            flow,
            connector,
            execution_id=str(uuid.uuid4()),
            window=None,
            partition_key=None,
            store_resolver=lambda bucket: store_for(bucket, local_root=out),
        )

    t0 = time.perf_counter()
    try:
        if a.profile:
            prof = cProfile.Profile()
            result = prof.runcall(transfer)
            prof.dump_stats(a.profile)
        else:
            result = transfer()
    finally:
        connector.close()
    seconds = time.perf_counter() - t0
    emit(
        Result(
            a.label,
            result.records_written,
            seconds,
            bytes_written=result.bytes_written,
            extra={"files": len(result.files), "engine_duration_s": round(result.duration_s, 3)},
        )
    )


if __name__ == "__main__":
    main()
