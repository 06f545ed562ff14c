"""Validate tasks: DropRecord counts, TerminateFlow stops the run without leaking values."""

import polars as pl
import pytest

from appflow_dagster.engine.tasks import FlowTerminated, ValidationSpec, ValidationStat, compile_tasks
from appflow_dagster.spec.model import Task


def V(field: str, op: str, action: str) -> Task:
    return Task("Validate", (field,), op, None, {"VALIDATION_ACTION": action})


MAP_ALL = Task("Map_all", (), "NO_OP", None, {})


def test_specs_and_stats_per_task() -> None:
    p = compile_tasks(
        [
            MAP_ALL,
            V("Rating", "VALIDATE_NON_NULL", "DropRecord"),
            V("Amount", "VALIDATE_NON_ZERO", "DropRecord"),
        ],
        None,
    )
    assert p.validations == [
        ValidationSpec(1, "Rating", "VALIDATE_NON_NULL", "DropRecord"),
        ValidationSpec(2, "Amount", "VALIDATE_NON_ZERO", "DropRecord"),
    ]
    df = pl.DataFrame({"Rating": ["Hot", None, "  ", "Warm"], "Amount": [1, 0, 0, 2]})
    res = p.apply(df)
    assert res.df.to_dicts() == [{"Rating": "Hot", "Amount": 1}, {"Rating": "Warm", "Amount": 2}]
    assert res.records_dropped_by_validation == 2  # one record failing two checks is dropped once
    assert res.validations == [
        ValidationStat(1, "Rating", "VALIDATE_NON_NULL", "DropRecord", checked=4, failed=2, dropped=2),
        ValidationStat(2, "Amount", "VALIDATE_NON_ZERO", "DropRecord", checked=4, failed=2, dropped=2),
    ]


def test_validations_see_only_records_that_passed_filters() -> None:
    filt = Task("Filter", ("Amount",), "GREATER_THAN", None, {"VALUE": "0"})
    p = compile_tasks([MAP_ALL, filt, V("Amount", "VALIDATE_NON_NEGATIVE", "TerminateFlow")], None)
    res = p.apply(pl.DataFrame({"Amount": [-1.0, 2.0]}))
    assert (
        res.records_dropped_by_filter == 1
        and res.validations[0].checked == 1
        and res.validations[0].failed == 0
    )


@pytest.mark.parametrize("action", ["TerminateFlow", "DropDataset"])
def test_terminate_flow(action: str) -> None:
    p = compile_tasks([MAP_ALL, V("Secret", "VALIDATE_NUMERIC", action)], None)
    with pytest.raises(FlowTerminated) as err:
        p.apply(pl.DataFrame({"Secret": ["s3cr3t-value", "12"]}))
    assert err.value.stat == ValidationStat(1, "Secret", "VALIDATE_NUMERIC", "TerminateFlow", 2, 1, 0)
    text = str(err.value)
    assert "'Secret'" in text and "VALIDATE_NUMERIC" in text and "1 of 2" in text
    assert "s3cr3t" not in text


def test_terminate_flow_passes_clean_batches() -> None:
    p = compile_tasks([MAP_ALL, V("N", "VALIDATE_NON_NEGATIVE", "TerminateFlow")], None)
    res = p.apply(pl.DataFrame({"N": [0, 1, None]}))
    assert res.df.height == 3 and res.validations[0].failed == 0


def test_numeric_text() -> None:
    p = compile_tasks([MAP_ALL, V("T", "VALIDATE_NUMERIC", "DropRecord")], None)
    res = p.apply(pl.DataFrame({"T": ["1", "-2.5", "1e3", ".5", "abc", "1,000", None]}))
    assert res.df["T"].to_list() == ["1", "-2.5", "1e3", ".5", None]
