"""SOQL parsing and evaluation against the generated data (no HTTP), plus simple-salesforce over HTTPS."""

import datetime as dt

import pytest
import requests
from simple_salesforce import Salesforce

from appflow_dagster.sandbox.salesforce import SalesforceSandbox
from appflow_dagster.sandbox.salesforce.data import Dataset
from appflow_dagster.sandbox.salesforce.query import plan
from appflow_dagster.sandbox.salesforce.render import Renderer
from appflow_dagster.sandbox.salesforce.soql import SoqlError, parse

NOW = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
DS = Dataset(seed=11, records=600, now=NOW)
ALL = None


def rows(soql: str, include_deleted: bool = False) -> list[dict]:
    p = plan(parse(soql), DS, include_deleted)
    idx = list(p.selection.iter_from(0))
    assert len(idx) == len(p.selection)
    return Renderer(DS, p.so, p.fields, "59.0").records(idx) if idx else []


def everything() -> list[dict]:
    global ALL
    if ALL is None:
        ALL = rows("SELECT FIELDS(STANDARD) FROM Account")
    return ALL


CASES = [  # (where clause, python predicate over a record)
    ("Industry = 'Banking'", lambda r: r["Industry"] == "Banking"),
    ("Industry = 'BANKING'", lambda r: r["Industry"] == "Banking"),
    ("Industry != 'Banking'", lambda r: r["Industry"] != "Banking"),
    ("Industry <> 'Banking'", lambda r: r["Industry"] != "Banking"),
    ("NumberOfEmployees < 1000", lambda r: r["NumberOfEmployees"] < 1000),
    ("NumberOfEmployees <= 1000", lambda r: r["NumberOfEmployees"] <= 1000),
    ("NumberOfEmployees > 40000", lambda r: r["NumberOfEmployees"] > 40000),
    ("AnnualRevenue >= 40000000", lambda r: r["AnnualRevenue"] >= 40000000),
    ("Fax = null", lambda r: r["Fax"] is None),
    ("Fax != null", lambda r: r["Fax"] is not None),
    ("Industry IN ('Banking', 'Retail')", lambda r: r["Industry"] in ("Banking", "Retail")),
    ("Industry NOT IN ('Banking', 'Retail')", lambda r: r["Industry"] not in ("Banking", "Retail")),
    ("Name LIKE 'acme%'", lambda r: r["Name"].startswith("Acme")),
    ("Name LIKE '%Corp 1_'", lambda r: r["Name"].endswith(tuple(f"Corp 1{d}" for d in "0123456789"))),
    (
        "Rating = 'Hot' AND Industry = 'Banking'",
        lambda r: r["Rating"] == "Hot" and r["Industry"] == "Banking",
    ),
    ("Rating = 'Hot' OR Industry = 'Banking'", lambda r: r["Rating"] == "Hot" or r["Industry"] == "Banking"),
    ("NOT Rating = 'Hot'", lambda r: r["Rating"] != "Hot"),
    (
        "Rating = 'Hot' AND (Industry = 'Banking' OR Industry = 'Retail')",
        lambda r: r["Rating"] == "Hot" and r["Industry"] in ("Banking", "Retail"),
    ),
    (
        "(Rating = 'Hot' AND Industry = 'Banking') OR Industry = 'Retail'",
        lambda r: (r["Rating"] == "Hot" and r["Industry"] == "Banking") or r["Industry"] == "Retail",
    ),
    ("NOT (Rating = 'Hot' OR Rating = 'Cold')", lambda r: r["Rating"] == "Warm"),
    (
        "LastActivityDate >= 2024-05-01",
        lambda r: r["LastActivityDate"] is not None and r["LastActivityDate"] >= "2024-05-01",
    ),
    ("CreatedDate < 2024-04-01T00:00:00Z", lambda r: r["CreatedDate"] < "2024-04-01"),
    ("CreatedDate > 2024-04-01T02:00:00+02:00", lambda r: r["CreatedDate"] > "2024-04-01T00:00:00.000+0000"),
    ("CreatedDate = LAST_N_DAYS:10", lambda r: r["CreatedDate"] >= "2024-05-22"),
    ("CreatedDate = YESTERDAY", lambda r: r["CreatedDate"].startswith("2024-05-31")),
    (
        "LastModifiedDate >= 2024-05-01T00:00:00.000Z AND LastModifiedDate < 2024-05-08T00:00:00Z",
        lambda r: "2024-05-01" <= r["LastModifiedDate"] < "2024-05-08",
    ),
    ("IsDeleted = false AND NumberOfEmployees > 100", lambda r: r["NumberOfEmployees"] > 100),
]


@pytest.mark.parametrize(("where", "expected"), CASES, ids=[c[0] for c in CASES])
def test_where(where, expected):
    got = [r["Id"] for r in rows(f"SELECT FIELDS(STANDARD) FROM Account WHERE {where}")]
    want = [r["Id"] for r in everything() if expected(r)]
    assert got == want and want, where


def test_order_limit_offset_count():
    by_emp = rows("SELECT Id, NumberOfEmployees FROM Account ORDER BY NumberOfEmployees DESC LIMIT 5")
    emps = sorted((r["NumberOfEmployees"] for r in everything()), reverse=True)[:5]
    assert [r["NumberOfEmployees"] for r in by_emp] == emps
    fax = rows("SELECT Id, Fax FROM Account ORDER BY Fax ASC NULLS LAST")
    assert fax[-1]["Fax"] is None and fax[0]["Fax"] is not None
    fax = rows("SELECT Id, Fax FROM Account ORDER BY Fax")
    assert fax[0]["Fax"] is None
    page = rows("SELECT Id FROM Account LIMIT 10 OFFSET 5")
    assert [r["Id"] for r in page] == [r["Id"] for r in everything()[5:15]]
    assert len(plan(parse("SELECT COUNT() FROM Account WHERE Rating = 'Hot'"), DS, False).selection) == sum(
        r["Rating"] == "Hot" for r in everything()
    )


def test_fields_all_needs_limit():
    with pytest.raises(SoqlError) as e:
        rows("SELECT FIELDS(ALL) FROM Account")
    assert e.value.error_code == "MALFORMED_QUERY"
    assert len(rows("SELECT FIELDS(ALL) FROM Account LIMIT 200")) == 200


def test_scalar_and_vectorised_dates_agree():
    recs = rows("SELECT Id, CreatedDate, LastModifiedDate FROM Account")
    from appflow_dagster.sandbox.salesforce.ids import fmt_datetime, parse_id

    for r in recs[::37]:
        i = parse_id("001", r["Id"])
        assert r["CreatedDate"] == fmt_datetime(DS.created("Account", i))
        assert r["LastModifiedDate"] == fmt_datetime(DS.modified("Account", i))


def sandbox_token(sb: SalesforceSandbox, session: requests.Session) -> dict:
    """An access token from the sandbox's OAuth endpoint, over TLS.

    simple-salesforce's own login builds ``https://{domain}.salesforce.com/services/oauth2/token``,
    a host the sandbox cannot answer for (``domain="127.0.0.1:PORT"`` gives
    ``127.0.0.1:PORT.salesforce.com``), so the token is fetched with ``requests``, as an app that
    runs its own OAuth flow and hands simple-salesforce ``instance_url`` + ``session_id`` does.
    """
    r = session.post(
        f"{sb.url}/services/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "appflow-sandbox",
            "client_secret": "appflow-sandbox-secret",
        },
    )
    assert r.status_code == 200, r.text
    return r.json()


def trust_session_verify(monkeypatch: pytest.MonkeyPatch) -> None:
    """requests lets ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` override ``Session.verify`` (psf/requests#3829)."""
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)


def test_simple_salesforce_unmodified(monkeypatch):
    """The vendor SDK over HTTPS as against Salesforce: no URL rewriting, only the sandbox's CA trusted."""
    trust_session_verify(monkeypatch)
    with (
        SalesforceSandbox(seed=5, records={"Account": 4500, "Contact": 50}, now=NOW, tls=True) as sb,
        requests.Session() as session,
    ):
        session.verify = sb.ca_file
        token = sandbox_token(sb, session)
        assert token["instance_url"] == sb.url and sb.url.startswith("https://")
        sf = Salesforce(instance_url=token["instance_url"], session_id=token["access_token"], session=session)
        assert sf.base_url.startswith(f"{sb.url}/services/data/v")
        result = sf.query_all("SELECT Id, Name FROM Account")  # 3 pages through nextRecordsUrl
        assert result["totalSize"] == len(result["records"]) == 4500 - 90
        assert len({r["Id"] for r in result["records"]}) == 4410
        d = sf.Account.describe()
        assert d["name"] == "Account" and any(f["name"] == "Industry" for f in d["fields"])
        first = result["records"][0]
        assert sf.Account.get(first["Id"])["Name"] == first["Name"]
        assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 49
        deleted = sf.query_all("SELECT Id FROM Account WHERE IsDeleted = true", include_deleted=True)
        assert deleted["totalSize"] == 90
        streamed = sum(1 for _ in sf.query_all_iter("SELECT Id FROM Account"))
        assert streamed == 4410


def test_simple_salesforce_client_credentials_login(monkeypatch):
    """simple-salesforce's own OAuth login (client credentials, Basic auth) and re-login on an expired token.

    Not how one would point it at a real org: the SDK pastes ``domain`` into
    ``https://{domain}.salesforce.com/services/oauth2/token``, so a domain ending in the token path
    and ``?`` turns the ``.salesforce.com/...`` tail into a query string (which the sandbox ignores).
    The SDK and its transport are untouched; only the argument is bent.
    """
    trust_session_verify(monkeypatch)
    with (
        SalesforceSandbox(seed=5, records={"Account": 2500}, now=NOW, tls=True) as sb,
        requests.Session() as session,
    ):
        session.verify = sb.ca_file
        sf = Salesforce(
            consumer_key="appflow-sandbox",
            consumer_secret="appflow-sandbox-secret",
            domain=f"127.0.0.1:{sb.port}/services/oauth2/token?",
            session=session,
        )
        assert sf.sf_instance == f"127.0.0.1:{sb.port}"
        assert sf.query_all("SELECT Id FROM Account")["totalSize"] == 2500 - 50
        sb.expire_tokens()  # the next call gets 401 INVALID_SESSION_ID; the SDK logs in again
        assert sf.query("SELECT COUNT() FROM Account")["totalSize"] == 2450
