"""P4: what Dagster adds to one partition run, in-process.

Loads the bench's partitioned flow through ``definitions_from_folders`` (as the code location does),
then times ``job.execute_in_process(partition_key=...)`` and subtracts the transfer time the
materialization reports (``appflow/duration_s``). Run twice in the same process: the first run
pays one-time costs (imports inside Dagster, the ephemeral instance, schema checks), the second is
what each further run costs. Environment: ``APPFLOW_LOCAL_ROOT`` / ``APPFLOW_STATE_DIR`` and the
connection's variables, set by ``bench.py`` as ``tests/conftest.py``'s ``demo_env`` does.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Result, emit  # noqa: E402


def _transfer_seconds(result) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    """``appflow/duration_s`` and ``appflow/records_written`` from the run's materialization."""
    (event,) = result.get_asset_materialization_events()
    meta = event.event_specific_data.materialization.metadata
    return float(meta["appflow/duration_s"].value), int(meta["appflow/records_written"].value)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--flows", type=Path, required=True)
    p.add_argument("--connections", type=Path, required=True)
    p.add_argument("--job", required=True)
    a = p.parse_args()

    t_import = time.perf_counter()
    from appflow_dagster.dagster_defs.factory import definitions_from_folders

    t_defs = time.perf_counter()
    defs = definitions_from_folders(a.flows, a.connections)
    job = defs.resolve_job_def(a.job)
    load_s = time.perf_counter() - t_defs
    import_s = t_defs - t_import
    assert job.partitions_def is not None, "the P4 flow must be partitioned"
    keys = job.partitions_def.get_partition_keys()
    runs = []
    for key in (keys[-1], keys[-2]):  # cold, then warm, on two different days
        t0 = time.perf_counter()
        res = job.execute_in_process(partition_key=key)
        wall = time.perf_counter() - t0
        assert res.success
        transfer_s, records = _transfer_seconds(res)
        runs.append(
            {
                "partition": key,
                "wall_s": round(wall, 3),
                "transfer_s": transfer_s,
                "overhead_s": round(wall - transfer_s, 3),
                "records": records,
            }
        )
    cold, warm = runs
    emit(
        Result(
            "dagster partition run",
            cold["records"],
            cold["wall_s"],
            note="execute_in_process wall time minus appflow/duration_s",
            extra={
                "import_s": round(import_s, 3),
                "definitions_s": round(load_s, 3),
                "cold": cold,
                "warm": warm,
            },
        )
    )


if __name__ == "__main__":
    main()
