"""Data-quality facts the engine gathers while records stream past, for asset checks.

Uniqueness of id fields is tracked as one 64-bit hash per record (8 bytes each), not the values,
so a 10-million-record transfer costs about 80 MB at most. A hash collision (expected about 3·10⁻⁶
times at 10⁷ records) could only under-report duplicates, never invent one.
"""

from collections.abc import Sequence

import polars as pl


class IdTracker:
    """Counts records whose id-field values repeat within one run."""

    def __init__(self, fields: Sequence[str]):
        self.fields = list(fields)
        self._hashes: list[pl.Series] = []
        self.records = 0

    def observe(self, df: pl.DataFrame) -> None:
        if not self.fields or df.height == 0 or any(f not in df.columns for f in self.fields):
            return
        hashes = df.select(pl.struct(self.fields).hash(seed=0)).to_series()
        self._hashes.append(hashes)
        self.records += df.height

    def duplicates(self) -> int:
        """Records beyond the first with the same id-field values."""
        if not self._hashes:
            return 0
        all_hashes = pl.concat(self._hashes, rechunk=False)
        return int(all_hashes.len() - all_hashes.n_unique())


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
