"""Pipeline behaviour beyond single tasks: push-down, field requests, errors, schema, signature."""

from datetime import UTC, datetime

import polars as pl
import pyarrow as pa
import pytest

from appflow_dagster.connectors.base import Condition, FieldInfo, ObjectInfo
from appflow_dagster.engine.tasks import BatchResult, TaskError, compile_tasks
from appflow_dagster.spec.model import Task

ACCOUNT = ObjectInfo(
    "Account",
    "Account",
    (
        FieldInfo("Id", "id", pa.string()),
        FieldInfo("Name", "string", pa.string()),
        FieldInfo("AnnualRevenue", "currency", pa.float64()),
        FieldInfo("LastModifiedDate", "datetime", pa.timestamp("us", "UTC")),
    ),
)


def T(
    task_type: str,
    fields: tuple[str, ...] = (),
    op: str | None = "NO_OP",
    dest: str | None = None,
    **props: str,
) -> Task:  # noqa: E501
    return Task(task_type, fields, op, dest, props)


def frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "Id": ["a", "b"],
            "Name": ["Acme", "Globex"],
            "AnnualRevenue": [1.0, 2.0],
            "LastModifiedDate": [datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 2, 1, tzinfo=UTC)],
        },
        schema_overrides={"LastModifiedDate": pl.Datetime("us", "UTC")},
    )


def test_pushed_down_filters_are_not_reapplied() -> None:
    tasks = [T("Map_all"), T("Filter", ("Name",), "EQUAL_TO", VALUE="Acme", DATA_TYPE="string")]
    p = compile_tasks(tasks, ACCOUNT, can_push_down=lambda c: c.operator == "EQUAL_TO")
    assert p.pushdown == [Condition("Name", "EQUAL_TO", ("Acme",), "string")]
    assert p.apply(frame()).df.height == 2  # the source already filtered; the engine trusts it
    p2 = compile_tasks(tasks, ACCOUNT)
    assert p2.pushdown == [] and p2.apply(frame()).df["Name"].to_list() == ["Acme"]


def test_source_fields() -> None:
    assert compile_tasks([T("Map_all")], ACCOUNT).source_fields is None
    mapped = compile_tasks(
        [T("Map", ("Name",), dest="N"), T("Filter", ("AnnualRevenue",), "GREATER_THAN", VALUE="0")], ACCOUNT
    )
    assert mapped.source_fields == ["Name", "AnnualRevenue"]
    merged = compile_tasks(
        [T("Merge", ("Id", "Name"), dest="Id,Name"), T("Map", ("Id,Name",), dest="K")], ACCOUNT
    )
    assert merged.source_fields == ["Id", "Name"]  # the intermediate field is not requested


def test_output_schema_predicts_types() -> None:
    tasks = [
        T("Map", ("AnnualRevenue",), dest="Revenue", DESTINATION_DATA_TYPE="string"),
        T("Map", ("Id",), dest="Id"),
    ]
    schema = compile_tasks(tasks, ACCOUNT).output_schema()
    assert schema.names == ["Revenue", "Id"]
    assert pa.types.is_large_string(schema.field("Revenue").type) or pa.types.is_string(
        schema.field("Revenue").type
    )


def test_signature_changes_with_mapping_not_with_filters() -> None:
    base = [T("Map", ("Id",), dest="Id")]
    s1 = compile_tasks(base, ACCOUNT).signature()
    assert s1 == compile_tasks(base, ACCOUNT).signature()
    assert s1 == compile_tasks([*base, T("Filter", ("Name",), "EQUAL_TO", VALUE="x")], ACCOUNT).signature()
    assert s1 != compile_tasks([T("Map", ("Id",), dest="AccountId")], ACCOUNT).signature()
    assert s1 != compile_tasks([*base, T("Partition", ("Id",))], ACCOUNT).signature()


def test_conversion_failure_is_a_per_record_error() -> None:
    df = pl.DataFrame({"Id": ["a", "b"], "Name": ["12", "twelve"]})
    res = compile_tasks([T("Map", ("Name",), dest="N", DESTINATION_DATA_TYPE="int")], None).apply(df)
    assert isinstance(res, BatchResult)
    assert res.df["N"].to_list() == [12]
    assert res.failed is not None and res.failed["Id"].to_list() == ["b"]
    assert "tasks[0] Map 'Name' -> 'N'" in res.failed["error"][0] and "twelve" not in res.failed["error"][0]


def test_later_map_overrides_map_all_for_the_same_destination() -> None:
    tasks = [T("Map_all"), T("Map", ("AnnualRevenue",), dest="AnnualRevenue", DESTINATION_DATA_TYPE="int")]
    out = compile_tasks(tasks, ACCOUNT).apply(frame()).df
    assert out.columns == ["Id", "Name", "AnnualRevenue", "LastModifiedDate"]
    assert out.schema["AnnualRevenue"] == pl.Int64


@pytest.mark.parametrize(
    ("task", "message"),
    [
        (
            T("Mask", ("Name",), "MASK_FIRST_N", MASK_LENGTH="0"),
            "tasks[0].taskProperties.MASK_LENGTH: must be an integer ≥ 1",
        ),
        (T("Truncate", ("Name",)), "tasks[0].taskProperties.TRUNCATE_LENGTH: required"),
        (
            T("Validate", ("Name",), "VALIDATE_NON_NULL", VALIDATION_ACTION="Explode"),
            "VALIDATION_ACTION: 'Explode'",
        ),
        (T("Filter", ("Name",), "BETWEEN", LOWER_BOUND="a"), "BETWEEN needs LOWER_BOUND and UPPER_BOUND"),
        (T("Map", ("Nope",), dest="X"), "tasks[0].sourceFields: 'Nope' is not a field of Account"),
        (T("Mask", ("Name",), "ADDITION"), "tasks[0].connectorOperator: 'ADDITION' does not apply to Mask"),
        (T("Sort", ("Name",)), "tasks[0].taskType: 'Sort'"),
        (Task("Map", ("Name",), "NO_OP", "N", {"COLOR": "x"}), "unknown key(s) ['COLOR']"),
    ],
)
def test_compile_errors_name_the_task_path(task: Task, message: str) -> None:
    with pytest.raises(TaskError) as err:
        compile_tasks([task, T("Map_all")], ACCOUNT)
    assert message in str(err.value)


def test_no_mapping_is_an_error() -> None:
    with pytest.raises(TaskError, match="nothing would reach the destination"):
        compile_tasks([T("Filter", ("Name",), "PROJECTION")], ACCOUNT)


def test_empty_batch() -> None:
    res = compile_tasks([T("Map_all")], ACCOUNT).apply(frame().clear())
    assert res.df.height == 0 and res.records_in == 0 and res.failed is None


def test_mask_counts_characters_not_bytes() -> None:
    df = pl.DataFrame({"Name": ["Zoë Ünal", None]})
    tasks = [T("Map_all"), T("Mask", ("Name",), "MASK_ALL", MASK_VALUE="$")]
    assert compile_tasks(tasks, None).apply(df).df["Name"].to_list() == ["$$$$$$$$", None]
    tasks = [T("Map_all"), T("Mask", ("Name",), "MASK_LAST_N", MASK_LENGTH="4")]
    assert compile_tasks(tasks, None).apply(df).df["Name"].to_list() == ["Zoë ****", None]
