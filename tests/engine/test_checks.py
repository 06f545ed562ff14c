import polars as pl

from appflow_dagster.engine.checks import IdTracker, schema_changes


def test_id_tracker_counts_repeats_across_batches() -> None:
    t = IdTracker(["Id"])
    t.observe(pl.DataFrame({"Id": ["a", "b", "c"]}))
    t.observe(pl.DataFrame({"Id": ["c", "d", "a", "a"]}))
    assert t.records == 7
    assert t.duplicates() == 3


def test_id_tracker_composite_keys_and_missing_fields() -> None:
    t = IdTracker(["A", "B"])
    t.observe(pl.DataFrame({"A": [1, 1, 2], "B": ["x", "y", "x"]}))
    assert t.duplicates() == 0
    t.observe(pl.DataFrame({"A": [1]}))  # the id fields did not reach this batch: not counted
    assert t.records == 3


def test_schema_changes_names_added_removed_retyped() -> None:
    prev = {"Id": "string", "Amount": "double", "Old": "string"}
    cur = {"Id": "string", "Amount": "string", "New": "int64"}
    assert schema_changes(prev, cur) == {
        "added": ["New"],
        "removed": ["Old"],
        "retyped": ["Amount: double → string"],
    }


def test_id_tracker_spills_to_disk_and_still_counts_exactly() -> None:
    t = IdTracker(["Id"], memory_budget=50)
    for start in range(0, 1000, 40):  # 25 batches of 40, spilled every two batches
        t.observe(pl.DataFrame({"Id": [f"r{i % 700}" for i in range(start, start + 40)]}))
    assert t.records == 1000
    assert t.duplicates() == 300
