"""Salesforce connector over httpx.MockTransport: reads, retries, errors, token refresh, no leaks."""

import logging
from datetime import UTC, date, datetime

import httpx
import pyarrow as pa
import pytest
import stamina

from appflow_dagster.connectors.base import Condition, ConnectorError, SourceConnector
from appflow_dagster.connectors.salesforce_page import (
    FrameSpec,
    records_to_batch,
    records_to_frame,
    split_page,
)

from .fake import CLIENT_SECRET, REFRESH_TOKEN, FakeSalesforce

SALESFORCE_ERROR = {"MALFORMED_QUERY": 400, "INVALID_FIELD": 400, "NOT_FOUND": 404}


def canaries(fake: FakeSalesforce) -> list[str]:
    return [CLIENT_SECRET, REFRESH_TOKEN, fake.access_token, "CANARY"]


@pytest.mark.parametrize("prefetch", [True, False])
def test_read_pages_schema_and_values(prefetch: bool) -> None:
    fake = FakeSalesforce(records=5, page_size=2)
    with fake.connector(prefetch=prefetch) as sf:
        assert isinstance(sf, SourceConnector)
        assert sf.list_objects() == ["Account"]
        batches = list(sf.read("Account"))
    assert [b.num_rows for b in batches] == [2, 2, 1]
    table = pa.Table.from_batches(batches)
    assert "BillingAddress" not in table.column_names and "attributes" not in table.column_names
    assert table.schema.field("LastModifiedDate").type == pa.timestamp("us", "UTC")
    assert table.schema.field("Founded__c").type == pa.date32()
    assert table.schema.field("AnnualRevenue").type == pa.float64()
    assert table.schema.field("NumberOfEmployees").type == pa.int64()
    row = table.slice(1, 1).to_pylist()[0]
    assert row["LastModifiedDate"] == datetime(2024, 5, 1, 12, 34, 1, 1000, tzinfo=UTC)
    assert row["Founded__c"] == date(2001, 2, 3)
    assert row["AnnualRevenue"] == 1000.0 and row["IsActive__c"] is False
    assert row["Name"] == "Acme 1 'quoted' \"double\" \\ back"
    assert table.column("Description").to_pylist()[0] == "line\nbreak"
    assert table.column("Opens__c").to_pylist()[0] == "09:00:00.000Z"
    assert sf.last_total_size == 5


def test_selected_fields_in_order_and_queryall() -> None:
    seen: list[str] = []
    fake = FakeSalesforce(records=3, page_size=10, on_query=seen.append)
    with fake.connector() as sf:
        (batch,) = sf.read("Account", ["Name", "Id"], include_deleted=True)
    assert batch.schema.names == ["Name", "Id"]
    assert seen == ["SELECT Name, Id FROM Account"]
    assert fake.requests[-1].url.path.endswith("/queryAll")


def test_pushdown_through_connector() -> None:
    seen: list[str] = []
    fake = FakeSalesforce(on_query=seen.append)
    with fake.connector() as sf:
        cond = Condition("Name", "CONTAINS", ("x",))
        assert sf.can_push_down("Account", cond)
        list(sf.read("Account", ["Id"], conditions=[cond]))
    assert seen == ["SELECT Id FROM Account WHERE Name LIKE '%x%'"]


def test_retry_after_429_is_honoured() -> None:
    waits: list[float] = []

    def hook(details: stamina.instrumentation.RetryDetails) -> None:
        waits.append(details.wait_for)

    fake = FakeSalesforce(script={"/describe": [httpx.Response(429, headers={"Retry-After": "0.05"})]})
    stamina.instrumentation.set_on_retry_hooks([hook])
    try:
        with fake.connector() as sf:
            assert sf.describe("Account").field("Id") is not None
    finally:
        stamina.instrumentation.set_on_retry_hooks(None)
    assert waits == [pytest.approx(0.05)]


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(503),
        httpx.Response(500, json=[{"errorCode": "SERVER_UNAVAILABLE", "message": "down"}]),
        httpx.Response(
            403, json=[{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "TotalRequests Limit exceeded."}]
        ),
    ],
    ids=["503", "SERVER_UNAVAILABLE", "REQUEST_LIMIT_EXCEEDED"],
)
def test_transient_then_success(failure: httpx.Response) -> None:
    fake = FakeSalesforce(records=5, page_size=2, script={"/query/": [failure]})
    with fake.connector() as sf:
        assert sum(b.num_rows for b in sf.read("Account")) == 5


def test_connect_error_then_success() -> None:
    fake = FakeSalesforce()
    calls = {"n": 0}
    inner = fake.handler

    def flaky(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] == 1:
            raise httpx.ConnectError("connection refused", request=request)
        return inner(request)

    fake.handler = flaky  # type: ignore[method-assign]
    with fake.connector() as sf:
        assert sf.list_objects() == ["Account"]


def test_retries_are_bounded() -> None:
    fake = FakeSalesforce(script={"/sobjects": [httpx.Response(503)] * 10})
    with fake.connector() as sf, pytest.raises(ConnectorError) as e:
        sf.list_objects()
    assert e.value.status == 503
    assert len(fake.requests) == 4  # RetryPolicy(attempts=4) in the fake


def test_malformed_query_is_not_retried(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    body = [{"message": "unexpected token: FROM", "errorCode": "MALFORMED_QUERY"}]
    fake = FakeSalesforce(script={"/query": [httpx.Response(400, json=body)]})
    with fake.connector() as sf, pytest.raises(ConnectorError) as e:
        list(sf.read("Account"))
    assert e.value.code == "MALFORMED_QUERY" and e.value.status == 400
    assert "unexpected token: FROM" in str(e.value)
    assert sum("/query" in r.url.path for r in fake.requests) == 1
    for canary in canaries(fake):
        assert canary not in str(e.value) and canary not in repr(e.value)
        assert canary not in caplog.text


def test_refresh_on_invalid_session_mid_read(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    expired = [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    fake = FakeSalesforce(records=6, page_size=2, script={"01gFAKE-2": [httpx.Response(401, json=expired)]})
    with fake.connector() as sf:
        assert sum(b.num_rows for b in sf.read("Account")) == 6
    assert fake.tokens_issued == 1
    statuses = [r.url.path for r in fake.requests]
    assert statuses.count("/services/oauth2/token") == 1
    for canary in [CLIENT_SECRET, REFRESH_TOKEN, fake.access_token]:
        assert canary not in caplog.text


def test_token_fetched_when_absent_and_client_credentials_grant() -> None:
    fake = FakeSalesforce()
    with fake.connector(with_token=False, grant="CLIENT_CREDENTIALS") as sf:
        assert sf.list_objects() == ["Account"]
    token_request = fake.requests[0]
    assert b"grant_type=client_credentials" in token_request.content


def test_bad_refresh_token_error_has_no_secrets() -> None:
    fake = FakeSalesforce()
    sf = fake.connector(with_token=False)
    sf._auth.refresh_token = type(sf._auth.refresh_token)("CANARY-wrong-refresh")  # type: ignore[misc]
    with sf, pytest.raises(ConnectorError) as e:
        sf.list_objects()
    assert e.value.code == "invalid_grant"
    text = str(e.value) + repr(e.value) + repr(sf) + repr(sf._auth)
    assert "CANARY" not in text


def test_401_without_refresh_raises() -> None:
    fake = FakeSalesforce()
    sf = fake.connector()
    sf._auth.refresh_token = None
    fake.access_token = "rotated"
    with sf, pytest.raises(ConnectorError) as e:
        sf.list_objects()
    assert e.value.code == "INVALID_SESSION_ID"


def test_next_records_url_must_stay_on_the_data_api() -> None:
    evil = httpx.Response(
        200, json={"totalSize": 3, "done": False, "nextRecordsUrl": "//evil.example/x", "records": []}
    )
    fake = FakeSalesforce(script={"/query": [evil]})
    with fake.connector() as sf, pytest.raises(ConnectorError):
        list(sf.read("Account", ["Id"]))


@pytest.mark.parametrize("method", ["read", "read_frames"])
def test_prefetch_threads_stop_when_the_consumer_stops(method: str) -> None:
    """Fetch and parse threads run ahead of the consumer; abandoning the read ends both."""
    import threading
    import time

    fake = FakeSalesforce(records=40, page_size=2)
    before = set(threading.enumerate())
    with fake.connector(prefetch=True) as sf:
        reader = getattr(sf, method)("Account", ["Id"])
        next(reader)
        ours = [t for t in threading.enumerate() if t not in before and t.name.startswith("salesforce-")]
        assert sorted(t.name for t in ours) == ["salesforce-fetch", "salesforce-prefetch"]
        reader.close()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(t.is_alive() for t in ours):
            time.sleep(0.01)
        assert not [t.name for t in ours if t.is_alive()]
        assert len(fake.requests) < 20  # bounded read-ahead, not the whole query


def test_prefetch_error_reaches_the_consumer_with_frames() -> None:
    evil = httpx.Response(
        200, json={"totalSize": 3, "done": False, "nextRecordsUrl": "//evil.example/x", "records": []}
    )
    fake = FakeSalesforce(script={"/query": [evil]})
    with fake.connector(prefetch=True) as sf, pytest.raises(ConnectorError):
        list(sf.read_frames("Account", ["Id"]))


# -- page splitting --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'{"totalSize":2,"done":true,"records":[{"Id":"a"},{"Id":"b"}]}',
        b' {"records" : [{"Id":"a"},{"Id":"b"}] , "done": true, "totalSize": 2}\n',
        b'{"note":"\\"records\\": [", "done":true,"totalSize":2,"records":[{"Id":"a"},{"Id":"b"}]}',
        b'{"done":true,"totalSize":2,"records":[{"Id":"a"},{"Id":"b"}],"nextRecordsUrl":"x]"}',
    ],
)
def test_split_page_variants(body: bytes) -> None:
    from appflow_dagster.connectors.base import FieldInfo

    page = split_page(body)
    assert page.done and page.total_size == 2
    fields = [FieldInfo("Id", "id", pa.string())]
    batch = records_to_batch(page.records, fields, pa.schema([("Id", pa.string())]))
    assert batch.column(0).to_pylist() == ["a", "b"]


def test_non_utc_datetimes_fall_back() -> None:
    from appflow_dagster.connectors.base import FieldInfo

    fields = [FieldInfo("T", "datetime", pa.timestamp("us", "UTC"))]
    batch = records_to_batch(
        b'[{"T":"2024-05-01T12:00:00.000+0200"},{"T":null}]',
        fields,
        pa.schema([("T", pa.timestamp("us", "UTC"))]),
    )
    assert batch.column(0).to_pylist() == [datetime(2024, 5, 1, 10, tzinfo=UTC), None]


@pytest.mark.parametrize(
    "records",
    [
        b'[{"attributes":{"type":"A"},"Id":"a","N":1,"F":1.5,"B":true,"D":"2024-05-01",'
        b'"T":"2024-05-01T12:34:56.789+0000"},{"Id":"b","N":null,"F":2,"B":false,"D":null,"T":null}]',
        b'[{"Id":"a","T":"2024-05-01T12:00:00.000+0200","D":"2024-05-01"}]',  # non-UTC: polars parse
        b'[{"Id":"a","N":{"nested":1}}]',  # odd shape: the orjson slow path
        b"[]",
        [{"Id": "a", "N": 3, "T": "2024-05-01T12:34:56.000+0000"}],  # an already parsed page
    ],
)
def test_records_to_frame_equals_batch(records: bytes | list[object]) -> None:
    import polars as pl

    from appflow_dagster.connectors.base import FieldInfo

    fields = [
        FieldInfo("Id", "id", pa.string()),
        FieldInfo("N", "int", pa.int64()),
        FieldInfo("F", "double", pa.float64()),
        FieldInfo("B", "boolean", pa.bool_()),
        FieldInfo("D", "date", pa.date32()),
        FieldInfo("T", "datetime", pa.timestamp("us", "UTC")),
    ]
    schema = pa.schema([pa.field(f.name, f.arrow_type) for f in fields])
    try:
        expected = pl.from_arrow(records_to_batch(records, fields, schema))
    except Exception as exc:  # noqa: BLE001 - both paths must fail alike
        with pytest.raises(type(exc)):
            records_to_frame(records, FrameSpec.of(fields, schema))
        return
    frame = records_to_frame(records, FrameSpec.of(fields, schema))
    assert isinstance(expected, pl.DataFrame)
    assert frame.schema == expected.schema and frame.equals(expected)
