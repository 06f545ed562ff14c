"""Every AppFlow task type, operator and task property key: input rows → output rows.

The coverage test reads the vocabularies from the AppFlow API model shipped with botocore, so a new
enum value in a botocore upgrade fails here until the table covers it.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import botocore.loaders
import polars as pl
import pyarrow as pa
import pytest

from appflow_dagster.connectors.base import FieldInfo, ObjectInfo
from appflow_dagster.engine.tasks import compile_tasks
from appflow_dagster.engine.tasks_vocab import OPERATORS, PROPERTY_KEYS, TASK_TYPES
from appflow_dagster.spec.model import Task


def _dt(day: int) -> datetime:
    return datetime(2022, 11, day, tzinfo=UTC)


def batch() -> pl.DataFrame:
    """Four Salesforce-like Account records, typed as a connector delivers them."""
    return pl.DataFrame(
        {
            "Id": ["001", "002", "003", "004"],
            "Name": ["Acme", "Globex", None, "Initech"],
            "Amount": [100.0, -5.0, 0.0, None],
            "Qty": [4, 3, 0, 5],
            "Rating": ["Hot", "", "Cold", None],
            "NumText": ["12", "x", "3.5", None],
            "CreatedDate": [_dt(10), _dt(11), _dt(12), _dt(13)],
        },
        schema_overrides={"CreatedDate": pl.Datetime("us", "UTC")},
    )


def T(
    task_type: str,
    fields: tuple[str, ...] = (),
    op: str | None = "NO_OP",
    dest: str | None = None,
    **props: str,
) -> Task:  # noqa: E501
    return Task(task_type, fields, op, dest, props)


MAP_ID = T("Map", ("Id",), dest="Id")
MILLIS_11 = str(int(_dt(11).timestamp() * 1000))


def ids(*values: str) -> list[dict[str, Any]]:
    return [{"Id": v} for v in values]


@dataclass(frozen=True)
class Case:
    id: str
    tasks: tuple[Task, ...]
    rows: list[dict[str, Any]] | None = None
    columns: list[str] | None = None
    failed: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict)


CASES: list[Case] = [
    # -- mapping ------------------------------------------------------------------------------------
    Case("map_all_excludes", (T("Map_all", EXCLUDE_SOURCE_FIELDS_LIST='["Rating","NumText"]'),),
         columns=["Id", "Name", "Amount", "Qty", "CreatedDate"]),
    Case("map_all_include_new_fields_false", (T("Map_all", INCLUDE_NEW_FIELDS="false"),),
         columns=["Id", "Name"], extra={"describe": ("Id", "Name")}),
    Case("projection_then_map_renames", (T("Filter", ("Id", "Name"), "PROJECTION"), T("Map", ("Name",), dest="AccountName")),
         rows=[{"AccountName": v} for v in ("Acme", "Globex", None, "Initech")], extra={"source_fields": ["Id", "Name"]}),
    Case("map_converts_types", (MAP_ID, T("Map", ("NumText",), dest="N", SOURCE_DATA_TYPE="string", DESTINATION_DATA_TYPE="double")),
         rows=[{"Id": "001", "N": 12.0}, {"Id": "003", "N": 3.5}, {"Id": "004", "N": None}], failed=1),
    Case("map_datetime_to_string", (T("Map", ("CreatedDate",), dest="C", DATA_TYPE="datetime", DESTINATION_DATA_TYPE="string"),),
         rows=[{"C": f"2022-11-{d}T00:00:00.000Z"} for d in (10, 11, 12, 13)]),
    Case("map_subfield_category_map_is_metadata", (T("Map", ("Id",), dest="Id", SUBFIELD_CATEGORY_MAP='{"a":"b"}'),),
         rows=ids("001", "002", "003", "004")),
    Case("passthrough_whole_record", (T("Passthrough"),), columns=list(batch().columns)),
    Case("passthrough_fields", (T("Passthrough", ("Id", "Qty")),), columns=["Id", "Qty"]),
    Case("partition_keys", (MAP_ID, T("Map", ("Rating",), dest="Rating"),
                            T("Partition", ("Rating", "Id"), ORDERED_PARTITION_KEYS_LIST='["Rating","Id"]')),
         columns=["Id", "Rating"], extra={"partition_keys": ["Rating", "Id"]}),
    # -- filters (001:18853-18857) --------------------------------------------------------------------
    Case("filter_equal_to", (MAP_ID, T("Filter", ("Name",), "EQUAL_TO", VALUE="Acme", DATA_TYPE="string")), rows=ids("001")),
    Case("filter_equal_to_values_or", (MAP_ID, T("Filter", ("Name",), "EQUAL_TO", VALUES="Acme,Initech")), rows=ids("001", "004")),
    Case("filter_not_equal_to_keeps_null", (MAP_ID, T("Filter", ("Name",), "NOT_EQUAL_TO", VALUE="Acme")),
         rows=ids("002", "003", "004")),
    Case("filter_contains", (MAP_ID, T("Filter", ("Name",), "CONTAINS", VALUE="ex")), rows=ids("002")),
    Case("filter_less_than", (MAP_ID, T("Filter", ("Amount",), "LESS_THAN", VALUE="0", DATA_TYPE="double")), rows=ids("002")),
    Case("filter_less_than_or_equal_to", (MAP_ID, T("Filter", ("Amount",), "LESS_THAN_OR_EQUAL_TO", VALUE="0")),
         rows=ids("002", "003")),
    Case("filter_greater_than", (MAP_ID, T("Filter", ("Qty",), "GREATER_THAN", VALUE="3", DATA_TYPE="int")), rows=ids("001", "004")),
    Case("filter_greater_than_or_equal_to", (MAP_ID, T("Filter", ("Qty",), "GREATER_THAN_OR_EQUAL_TO", VALUE="3")),
         rows=ids("001", "002", "004")),
    Case("filter_between_millis_and_iso", (MAP_ID, T("Filter", ("CreatedDate",), "BETWEEN", DATA_TYPE="datetime",
                                                      LOWER_BOUND=MILLIS_11, UPPER_BOUND="2022-11-12T00:00:00Z")),
         rows=ids("002", "003")),
    Case("filter_datetime_epoch_millis", (MAP_ID, T("Filter", ("CreatedDate",), "GREATER_THAN", VALUE=MILLIS_11)),
         rows=ids("003", "004")),
    Case("filter_datetime_iso", (MAP_ID, T("Filter", ("CreatedDate",), "EQUAL_TO", VALUE="2022-11-11T00:00:00.000+0000")),
         rows=ids("002")),
    # -- validations (001:1066-1073) ------------------------------------------------------------------
    Case("validate_non_null", (MAP_ID, T("Validate", ("Rating",), "VALIDATE_NON_NULL", VALIDATION_ACTION="DropRecord")),
         rows=ids("001", "003")),
    Case("validate_non_zero", (MAP_ID, T("Validate", ("Amount",), "VALIDATE_NON_ZERO", VALIDATION_ACTION="DropRecord")),
         rows=ids("001", "002", "004")),
    Case("validate_non_negative", (MAP_ID, T("Validate", ("Amount",), "VALIDATE_NON_NEGATIVE", VALIDATION_ACTION="DropRecord")),
         rows=ids("001", "003", "004")),
    Case("validate_numeric", (MAP_ID, T("Validate", ("NumText",), "VALIDATE_NUMERIC", VALIDATION_ACTION="DropRecord")),
         rows=ids("001", "003", "004")),
    # -- transforms (001:18736) -----------------------------------------------------------------------
    Case("mask_all", (T("Map", ("Name",), dest="Name"), T("Mask", ("Name",), "MASK_ALL", MASK_VALUE="*", MASK_LENGTH="5")),
         rows=[{"Name": v} for v in ("****", "******", None, "*******")]),
    Case("mask_first_n", (T("Map", ("Name",), dest="Name"), T("Mask", ("Name",), "MASK_FIRST_N", MASK_LENGTH="2", MASK_VALUE="#")),
         rows=[{"Name": v} for v in ("##me", "##obex", None, "##itech")]),
    Case("mask_last_n_longer_than_value", (T("Map", ("Id",), dest="Id"), T("Mask", ("Id",), "MASK_LAST_N", MASK_LENGTH="5")),
         rows=ids("***", "***", "***", "***")),
    Case("truncate", (T("Map", ("Name",), dest="Name"), T("Truncate", ("Name",), TRUNCATE_LENGTH="3")),
         rows=[{"Name": v} for v in ("Acm", "Glo", None, "Ini")]),
    Case("merge_concat_format_template", (T("Merge", ("Id", "Name"), dest="Label", CONCAT_FORMAT="${Id}:${Name}"),),
         rows=[{"Label": v} for v in ("001:Acme", "002:Globex", "003:", "004:Initech")]),
    Case("merge_then_map_cdk_shape", (T("Merge", ("Id", "Rating"), dest="Id,Rating", CONCAT_FORMAT="-"),
                                      T("Map", ("Id,Rating",), dest="Key", SOURCE_DATA_TYPE="string", DESTINATION_DATA_TYPE="string")),
         rows=[{"Key": v} for v in ("001-Hot", "002-", "003-Cold", "004-")]),
    Case("arithmetic_addition", (T("Arithmetic", ("Amount", "Qty"), "ADDITION", dest="S"),),
         rows=[{"S": v} for v in (104.0, -2.0, 0.0, None)]),
    Case("arithmetic_subtraction_order", (T("Arithmetic", ("Amount", "Qty"), "SUBTRACTION", dest="D", MATH_OPERATION_FIELDS_ORDER="Qty,Amount"),),
         rows=[{"D": v} for v in (-96.0, 8.0, 0.0, None)]),
    Case("arithmetic_multiplication", (T("Arithmetic", ("Amount", "Qty"), "MULTIPLICATION", dest="M"),),
         rows=[{"M": v} for v in (400.0, -15.0, 0.0, None)]),
    Case("arithmetic_division_by_zero_is_null", (T("Arithmetic", ("Amount", "Qty"), "DIVISION", dest="Q"),),
         rows=[{"Q": v} for v in (25.0, -5.0 / 3, None, None)]),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_task_semantics(case: Case) -> None:
    source = None
    if "describe" in case.extra:
        fields = tuple(FieldInfo(n, "string", pa.string()) for n in case.extra["describe"])
        source = ObjectInfo("Account", None, fields)
    batch_df = batch()
    pipeline = compile_tasks(case.tasks, source)
    result = pipeline.apply(batch_df)
    if case.rows is not None:
        assert result.df.to_dicts() == case.rows
    if case.columns is not None:
        assert result.df.columns == case.columns
    assert result.records_failed == case.failed
    if "source_fields" in case.extra:
        assert pipeline.source_fields == case.extra["source_fields"]
    if "partition_keys" in case.extra:
        assert pipeline.partition_keys == case.extra["partition_keys"]
    assert result.records_in == batch_df.height


def _covered() -> tuple[set[str], set[str], set[str]]:
    types, ops, keys = set(), set(), set()
    for case in CASES:
        for t in case.tasks:
            types.add(t.task_type)
            ops.add(t.connector_operator or "NO_OP")
            keys.update(t.task_properties)
    return types, ops, keys


def test_table_covers_the_appflow_api_model() -> None:
    shapes = botocore.loaders.Loader().load_service_model("appflow", "service-2")["shapes"]
    types, ops, keys = _covered()
    assert set(shapes["TaskType"]["enum"]) - types == set()
    assert set(shapes["Operator"]["enum"]) - ops == set()
    assert set(shapes["OperatorPropertiesKeys"]["enum"]) - keys == set()
    # and the engine's own vocabulary is exactly the API's
    assert set(TASK_TYPES) == set(shapes["TaskType"]["enum"])
    assert set(OPERATORS) == set(shapes["Operator"]["enum"])
    assert set(PROPERTY_KEYS) == set(shapes["OperatorPropertiesKeys"]["enum"])
