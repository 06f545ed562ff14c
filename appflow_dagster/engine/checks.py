"""Data-quality facts the engine gathers while records stream past, for asset checks.

Uniqueness of id fields is tracked as one 64-bit hash per record, not the values. Memory stays
bounded whatever the transfer size: hashes are kept in 64 buckets (by their low bits) and, past
``memory_budget`` hashes, spilled to temporary files, so the final count holds one bucket
(about 1/64 of the run) at a time. A hash collision (expected about 3·10⁻⁶ times at 10⁷ records)
could only under-report duplicates, never invent one.
"""

import tempfile
from collections.abc import Sequence
from pathlib import Path

import polars as pl
import pyarrow as pa

_BUCKETS = 64


class IdTracker:
    """Counts records whose id-field values repeat within one run."""

    def __init__(self, fields: Sequence[str], memory_budget: int = 1_000_000):
        self.fields = list(fields)
        self.records = 0
        self._budget = memory_budget
        self._held: list[pl.Series] = []
        self._held_count = 0
        self._spill: tempfile.TemporaryDirectory[str] | None = None

    def observe(self, df: pl.DataFrame) -> None:
        if not self.fields or df.height == 0 or any(f not in df.columns for f in self.fields):
            return
        self._held.append(df.select(pl.struct(self.fields).hash(seed=0)).to_series())
        self.records += df.height
        self._held_count += df.height
        if self._held_count > self._budget:
            self._flush()

    def _flush(self) -> None:
        """Append the held hashes to their bucket files."""
        if self._spill is None:
            self._spill = tempfile.TemporaryDirectory(prefix="appflow-ids-")
        held = pl.DataFrame({"h": pl.concat(self._held)}).with_columns(b=pl.col("h") % _BUCKETS)
        for (bucket,), part in held.partition_by("b", as_dict=True).items():
            arr = part["h"].rechunk().to_arrow()
            with open(Path(self._spill.name) / f"{bucket}.u64", "ab") as f:
                f.write(arr.buffers()[1].to_pybytes()[arr.offset * 8 : (arr.offset + len(arr)) * 8])
        self._held, self._held_count = [], 0

    def duplicates(self) -> int:
        """Records beyond the first with the same id-field values."""
        if self._spill is None:
            hashes = pl.concat(self._held) if self._held else pl.Series(dtype=pl.UInt64)
            return hashes.len() - hashes.n_unique()
        try:
            if self._held:
                self._flush()
            total = 0
            for path in Path(self._spill.name).glob("*.u64"):
                data = path.read_bytes()
                hashes = pl.Series(
                    pa.Array.from_buffers(pa.uint64(), len(data) // 8, [None, pa.py_buffer(data)])
                )
                total += hashes.len() - hashes.n_unique()
            return total
        finally:
            self._spill.cleanup()
            self._spill = None


def schema_changes(previous: dict[str, str], current: dict[str, str]) -> dict[str, list[str]]:
    """Columns added, removed and retyped between two ``name → type`` maps (schema drift)."""
    return {
        "added": sorted(set(current) - set(previous)),
        "removed": sorted(set(previous) - set(current)),
        "retyped": sorted(
            f"{c}: {previous[c]} → {current[c]}"
            for c in set(previous) & set(current)
            if previous[c] != current[c]
        ),
    }
