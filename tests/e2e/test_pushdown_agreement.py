"""A filter selects the same records whether Salesforce evaluates it (pushed into SOQL) or the
engine does: text comparisons ignore case on both sides, nulls behave alike."""

import polars as pl
import pytest

from appflow_dagster.connectors.salesforce import SalesforceConnector
from appflow_dagster.engine.tasks import compile_tasks
from appflow_dagster.spec.model import ConnectorProfile, CredentialRef, Task

FILTERS = [
    ("Name", "CONTAINS", {"VALUE": "INC"}),
    ("Industry", "EQUAL_TO", {"VALUE": "technology"}),
    ("Industry", "NOT_EQUAL_TO", {"VALUE": "BANKING"}),
    ("AnnualRevenue", "GREATER_THAN", {"VALUE": "5000000", "DATA_TYPE": "double"}),
    ("NumberOfEmployees", "BETWEEN", {"LOWER_BOUND": "100", "UPPER_BOUND": "1000", "DATA_TYPE": "int"}),
]


@pytest.fixture
def connector(demo_env, sandbox):
    profile = ConnectorProfile(
        name="sb",
        connector_type="Salesforce",
        properties={"instanceUrl": sandbox.url},
        credentials={
            "refreshToken": CredentialRef("env", "APPFLOW_DEMO_SALESFORCE_REFRESH_TOKEN"),
            "clientCredentialsArn": CredentialRef("env", "APPFLOW_DEMO_SALESFORCE_CLIENT_CREDENTIALS"),
            "oAuth2GrantType": "AUTHORIZATION_CODE",
        },
    )
    with SalesforceConnector.from_profile(profile) as c:
        yield c


@pytest.mark.parametrize(("field", "operator", "props"), FILTERS, ids=[f"{f}-{o}" for f, o, _ in FILTERS])
def test_pushed_down_and_in_engine_filters_agree(connector, field, operator, props) -> None:
    info = connector.describe("Account")
    tasks = [
        Task("Filter", ("Id", field), "PROJECTION"),
        Task("Filter", (field,), operator, task_properties=props),
        Task("Map_all", ()),
    ]

    def ids(push: bool) -> set[str]:
        pipeline = compile_tasks(
            tasks, info, can_push_down=lambda c: push and connector.can_push_down("Account", c)
        )
        assert len(pipeline.pushdown) == (1 if push else 0)
        out = set()
        for batch in connector.read("Account", pipeline.source_fields, conditions=pipeline.pushdown):
            df = pipeline.apply(pl.from_arrow(batch)).df
            out.update(df["Id"].to_list())
        return out

    pushed, in_engine = ids(True), ids(False)
    assert pushed == in_engine
    assert 0 < len(pushed) < 4900  # the filter really selects
