"""SOQL building: every operator and literal type, escaping, the window, refusals."""

from datetime import UTC, datetime

import pytest

from appflow_dagster.connectors.base import Condition, ConnectorError, FieldInfo, ObjectInfo, Window
from appflow_dagster.connectors.salesforce import arrow_type
from appflow_dagster.connectors.salesforce_soql import (
    build_soql,
    can_push_down,
    condition_clause,
    select_fields,
    soql_datetime,
    soql_string,
)

from .fake import ACCOUNT_FIELDS

INFO = ObjectInfo(
    "Account",
    "Account",
    tuple(
        FieldInfo(f["name"], f["type"], arrow_type(f["type"]), filterable=f["filterable"])
        for f in ACCOUNT_FIELDS
        if f["type"] != "address"
    ),
)

# 2024-01-01T00:00:00Z in epoch milliseconds, as AppFlow filter values carry datetimes.
JAN1_MS = "1704067200000"

CASES = [
    # (field, operator, values, expected clause)
    ("Name", "EQUAL_TO", ("Acme",), "Name = 'Acme'"),
    ("Name", "EQUAL_TO", ("a", "b"), "Name IN ('a', 'b')"),
    ("Name", "NOT_EQUAL_TO", ("Acme",), "Name != 'Acme'"),
    ("Name", "NOT_EQUAL_TO", ("a", "b"), "Name NOT IN ('a', 'b')"),
    ("Name", "EQUAL_TO", ('O\'Brien \\ "x"\n',), "Name = 'O\\'Brien \\\\ \\\"x\\\"\\n'"),
    ("Name", "CONTAINS", ("50%_off'",), "Name LIKE '%50\\%\\_off\\'%'"),
    ("Name", "CONTAINS", ("a", "b"), "(Name LIKE '%a%' OR Name LIKE '%b%')"),
    ("Industry", "EQUAL_TO", ("Energy",), "Industry = 'Energy'"),
    ("Tags__c", "EQUAL_TO", ("a;b",), "Tags__c = 'a;b'"),
    ("Id", "GREATER_THAN", ("001000000000000001",), "Id > '001000000000000001'"),
    ("NumberOfEmployees", "LESS_THAN", ("10",), "NumberOfEmployees < 10"),
    ("NumberOfEmployees", "LESS_THAN_OR_EQUAL_TO", ("10",), "NumberOfEmployees <= 10"),
    ("NumberOfEmployees", "GREATER_THAN", ("10", "20"), "(NumberOfEmployees > 10 OR NumberOfEmployees > 20)"),
    ("AnnualRevenue", "GREATER_THAN_OR_EQUAL_TO", ("1e3",), "AnnualRevenue >= 1000.0"),
    ("Score__c", "BETWEEN", ("1.5", "2"), "(Score__c >= 1.5 AND Score__c <= 2.0)"),
    ("IsActive__c", "EQUAL_TO", ("TRUE",), "IsActive__c = true"),
    ("IsActive__c", "NOT_EQUAL_TO", ("false",), "IsActive__c != false"),
    ("Founded__c", "GREATER_THAN", ("2001-02-03",), "Founded__c > 2001-02-03"),
    ("Founded__c", "LESS_THAN", (JAN1_MS,), "Founded__c < 2024-01-01"),
    ("LastModifiedDate", "GREATER_THAN_OR_EQUAL_TO", (JAN1_MS,), "LastModifiedDate >= 2024-01-01T00:00:00Z"),
    (
        "LastModifiedDate",
        "BETWEEN",
        ("2024-01-01T01:00:00+01:00", "1704067200123"),
        "(LastModifiedDate >= 2024-01-01T00:00:00Z AND LastModifiedDate <= 2024-01-01T00:00:00.123Z)",
    ),
]


@pytest.mark.parametrize(("field", "op", "values", "expected"), CASES)
def test_condition_clause(field: str, op: str, values: tuple[str, ...], expected: str) -> None:
    cond = Condition(field, op, values)
    assert can_push_down(INFO, cond)
    assert condition_clause(INFO, cond) == expected


REFUSED = [
    Condition("Description", "EQUAL_TO", ("x",)),  # textarea: not filterable
    Condition("Nope", "EQUAL_TO", ("x",)),  # unknown field
    Condition("Tags__c", "CONTAINS", ("a",)),  # multi-select picklists take INCLUDES, not LIKE
    Condition("IsActive__c", "GREATER_THAN", ("true",)),
    Condition("Opens__c", "EQUAL_TO", ("09:00:00.000Z",)),  # time: left to the engine
    Condition("NumberOfEmployees", "EQUAL_TO", ("1; DELETE",)),  # not a number
    Condition("NumberOfEmployees", "BETWEEN", ("1",)),
    Condition("IsActive__c", "EQUAL_TO", ("yes",)),
    Condition("Name", "VALIDATE_NON_NULL", ("x",)),
]


@pytest.mark.parametrize("cond", REFUSED, ids=lambda c: f"{c.field}-{c.operator}")
def test_refused(cond: Condition) -> None:
    assert not can_push_down(INFO, cond)
    with pytest.raises(ConnectorError):
        condition_clause(INFO, cond)


def test_build_soql_window_and_conditions() -> None:
    window = Window(datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC))
    soql = build_soql(
        INFO,
        select_fields(INFO, ["Id", "Name"]),
        window,
        "LastModifiedDate",
        [Condition("Industry", "EQUAL_TO", ("Energy",))],
    )
    assert soql == (
        "SELECT Id, Name FROM Account WHERE LastModifiedDate >= 2024-01-01T00:00:00Z "
        "AND LastModifiedDate < 2024-01-02T00:00:00Z AND Industry = 'Energy'"
    )


def test_default_fields_skip_compound() -> None:
    names = [f.name for f in select_fields(INFO, None)]
    assert "BillingAddress" not in names and "BillingCity" in names
    assert names[0] == "Id"


def test_unknown_field_and_bad_names() -> None:
    with pytest.raises(ConnectorError) as e:
        select_fields(INFO, ["Id", "Missing"])
    assert e.value.code == "INVALID_FIELD"
    with pytest.raises(ConnectorError):
        build_soql(
            INFO, select_fields(INFO, ["Id"]), Window(datetime(2024, 1, 1), datetime(2024, 1, 2)), "Name"
        )


def test_literals() -> None:
    assert soql_string("a'b") == "'a\\'b'"
    assert soql_datetime(datetime(2024, 1, 1, 2, 0, tzinfo=UTC)) == "2024-01-01T02:00:00Z"
    assert soql_datetime(datetime(2024, 1, 1, 2, 0)) == "2024-01-01T02:00:00Z"  # naive = UTC
    assert soql_datetime("2024-01-01T02:00:00.5-01:00") == "2024-01-01T03:00:00.500Z"
