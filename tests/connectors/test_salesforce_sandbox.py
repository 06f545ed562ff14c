"""The Salesforce connector against the sandbox emulator over real HTTP on 127.0.0.1."""

from collections.abc import Iterator
from datetime import timedelta

import httpx
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from appflow_dagster.connectors import connect
from appflow_dagster.connectors.base import Condition, ConnectorError, Window
from appflow_dagster.connectors.salesforce import SalesforceConnector
from appflow_dagster.spec.model import ConnectorProfile, CredentialRef

sandbox = pytest.importorskip(
    "appflow_dagster.sandbox.salesforce",
    reason="the Salesforce sandbox (appflow_dagster.sandbox.salesforce) is not importable yet",
)
if not hasattr(sandbox, "SalesforceSandbox"):
    pytest.skip("appflow_dagster.sandbox.salesforce has no SalesforceSandbox yet", allow_module_level=True)

RECORDS = 5000
APP = {"clientId": "appflow-sandbox", "clientSecret": "appflow-sandbox-secret"}
REFRESH = "appflow-sandbox-refresh"


@pytest.fixture(scope="module")
def sb() -> Iterator[object]:
    with sandbox.SalesforceSandbox(seed=7, records=RECORDS, port=0) as server:
        yield server


@pytest.fixture
def env(sb: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SF_TEST_URL", sb.url)  # type: ignore[attr-defined]
    monkeypatch.setenv("SF_TEST_REFRESH", REFRESH)
    monkeypatch.setenv("SF_TEST_APP", orjson.dumps(APP).decode())


def profile(grant: str) -> ConnectorProfile:
    creds: dict[str, CredentialRef | str] = {
        "clientCredentialsArn": CredentialRef("env", "SF_TEST_APP"),
        "oAuth2GrantType": grant,
    }
    if grant == "AUTHORIZATION_CODE":
        creds["refreshToken"] = CredentialRef("env", "SF_TEST_REFRESH")
    return ConnectorProfile(
        name=f"sandbox-{grant.lower()}",
        connector_type="Salesforce",
        properties={"instanceUrl": "{{resolve:env:SF_TEST_URL}}", "isSandboxEnvironment": True},
        credentials=creds,
    )


class Counting:
    """An httpx client whose requests are counted by path (event hook, no patching)."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.client = httpx.Client(event_hooks={"request": [lambda r: self.paths.append(r.url.path)]})


@pytest.fixture
def sf(env: None) -> Iterator[SalesforceConnector]:
    with SalesforceConnector.from_profile(profile("AUTHORIZATION_CODE")) as c:
        yield c


def full_table(sf: SalesforceConnector, obj: str = "Account", fields: list[str] | None = None) -> pa.Table:
    batches = list(sf.read(obj, fields))
    return pa.Table.from_batches(batches, schema=batches[0].schema)


def test_objects(sf: SalesforceConnector) -> None:
    assert {"Account", "Contact", "Opportunity", "Lead", "Case"} <= set(sf.list_objects())
    info = sf.describe("Account")
    assert info.field("Id") is not None and info.field("LastModifiedDate") is not None
    assert info.field("LastModifiedDate").arrow_type == pa.timestamp("us", "UTC")  # type: ignore[union-attr]


def test_full_read_across_pages_equals_count(sf: SalesforceConnector) -> None:
    batches = list(sf.read("Account"))
    assert len(batches) >= 3  # 2,000 records per page
    table = pa.Table.from_batches(batches)
    live = sf.count("Account")
    assert 0 < live <= RECORDS and table.num_rows == live
    assert table.schema.names == [f.name for f in sf.describe("Account").fields]
    assert pc.count_distinct(table.column("Id")).as_py() == live


@pytest.mark.parametrize("obj", ["Account", "Opportunity"])
def test_read_frames_equal_read(sf: SalesforceConnector, obj: str) -> None:
    """The engine's polars path parses the same pages into the same frames as ``read``'s batches."""
    import polars as pl

    frames = list(sf.read_frames(obj))
    batches = list(sf.read(obj))
    assert len(frames) == len(batches) >= 1
    for frame, batch in zip(frames, batches, strict=True):
        expected = pl.from_arrow(batch)
        assert isinstance(expected, pl.DataFrame)
        assert frame.schema == expected.schema and frame.equals(expected)


def test_include_deleted_reads_query_all(sf: SalesforceConnector) -> None:
    """``includeDeletedRecords`` → queryAll: the live records plus the deleted ones."""
    every = sum(b.num_rows for b in sf.read("Account", ["Id"], include_deleted=True))
    assert every == sf.count("Account", include_deleted=True) == RECORDS
    assert every >= sf.count("Account")


@pytest.mark.parametrize("obj", ["Contact", "Opportunity", "Lead", "Case"])
def test_every_object_reads(sf: SalesforceConnector, obj: str) -> None:
    table = full_table(sf, obj)
    assert table.num_rows == sf.count(obj)
    assert table.schema.names == [f.name for f in sf.describe(obj).fields]


def test_window_read_is_exact(sf: SalesforceConnector) -> None:
    everything = full_table(sf, "Account", ["Id", "LastModifiedDate"])
    lmd = everything.column("LastModifiedDate")
    lo, hi = pc.min(lmd).as_py(), pc.max(lmd).as_py()
    start = lo + (hi - lo) / 3
    start = start.replace(microsecond=0)
    end = start + timedelta(days=7)
    window = Window(start, end)
    got = pa.Table.from_batches(
        list(sf.read("Account", ["Id", "LastModifiedDate"], window, "LastModifiedDate"))
    )
    mask = pc.and_(pc.greater_equal(lmd, pa.scalar(start, lmd.type)), pc.less(lmd, pa.scalar(end, lmd.type)))
    expected = set(everything.filter(mask).column("Id").to_pylist())
    assert 0 < len(expected) < everything.num_rows
    assert set(got.column("Id").to_pylist()) == expected and got.num_rows == len(expected)
    assert sf.count("Account", window, "LastModifiedDate") == len(expected)


def test_pushed_down_filters(sf: SalesforceConnector) -> None:
    info = sf.describe("Account")
    everything = full_table(sf, "Account")
    checked = 0
    for field in info.fields:
        if (
            field.source_type not in ("picklist", "string", "int", "double", "currency")
            or not field.filterable
        ):
            continue
        values = [v for v in everything.column(field.name).to_pylist() if v is not None]
        if not values:
            continue
        value = sorted(values)[len(values) // 2]
        if field.source_type in ("picklist", "string"):
            cond = Condition(field.name, "EQUAL_TO", (str(value),))
            expected = {
                r["Id"]
                for r in everything.select(["Id", field.name]).to_pylist()
                if r[field.name] is not None and str(r[field.name]).lower() == str(value).lower()
            }
        else:
            cond = Condition(field.name, "GREATER_THAN", (str(value),))
            expected = {
                r["Id"]
                for r in everything.select(["Id", field.name]).to_pylist()
                if r[field.name] is not None and r[field.name] > value
            }
        assert sf.can_push_down("Account", cond)
        got = pa.Table.from_batches(
            list(sf.read("Account", ["Id"], conditions=[cond])), schema=pa.schema([("Id", pa.string())])
        )
        assert set(got.column("Id").to_pylist()) == expected, cond
        checked += 1
        if checked >= 4:
            break
    assert checked >= 2


def test_token_expiry_mid_read_is_transparent(env: None, sb: object) -> None:
    counting = Counting()
    with SalesforceConnector.from_profile(
        profile("AUTHORIZATION_CODE"), http_client=counting.client, prefetch=False
    ) as sf:
        batches = sf.read("Account", ["Id"])
        rows = next(batches).num_rows
        sb.expire_tokens()  # type: ignore[attr-defined]
        rows += sum(b.num_rows for b in batches)
        live = sf.count("Account")
    counting.client.close()
    assert rows == live
    assert counting.paths.count("/services/oauth2/token") == 2  # the first token, then the refresh


@pytest.mark.parametrize("grant", ["AUTHORIZATION_CODE", "CLIENT_CREDENTIALS"])
def test_grants_from_profile_with_env_refs(env: None, grant: str) -> None:
    counting = Counting()
    sf = connect(profile(grant))
    assert isinstance(sf, SalesforceConnector)
    sf.close()
    with SalesforceConnector.from_profile(profile(grant), http_client=counting.client) as sf:
        assert "Account" in sf.list_objects()
    counting.client.close()
    assert counting.paths[0] == "/services/oauth2/token"


def test_wrong_secret_is_reported_without_leaking(env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "SF_TEST_APP", orjson.dumps({"clientId": "appflow-sandbox", "clientSecret": "CANARY-wrong"}).decode()
    )
    with (
        SalesforceConnector.from_profile(profile("CLIENT_CREDENTIALS")) as sf,
        pytest.raises(ConnectorError) as e,
    ):
        sf.list_objects()
    assert "CANARY" not in str(e.value) and e.value.status in (400, 401)


def test_malformed_query_from_sandbox(sf: SalesforceConnector) -> None:
    with pytest.raises(ConnectorError) as e:
        sf._json(sf._data_path("query"), {"q": "SELECT FROM Account"})
    assert e.value.code == "MALFORMED_QUERY" and e.value.status == 400
