"""The Salesforce sandbox over HTTP: OAuth, metadata, query paging and error bodies."""

import base64
import datetime as dt

import httpx
import pytest
from sandbox_client import token

from appflow_dagster.sandbox.salesforce import SalesforceSandbox

V = "/services/data/v59.0"
NOW = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
RECORDS = {"Account": 5000, "Contact": 500, "Opportunity": 300, "Lead": 200, "Case": 200}


@pytest.fixture(scope="module")
def sandbox():
    with SalesforceSandbox(seed=7, records=RECORDS, now=NOW) as sb:
        yield sb


def get_token(sb: SalesforceSandbox) -> str:
    return token(sb.url)


@pytest.fixture
def client(sandbox):
    with httpx.Client(base_url=sandbox.url, headers={"Authorization": f"Bearer {get_token(sandbox)}"}) as c:
        yield c


def test_refresh_token_grant(sandbox):
    r = httpx.post(
        f"{sandbox.url}/services/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": "appflow-sandbox",
            "client_secret": "appflow-sandbox-secret",
            "refresh_token": "appflow-sandbox-refresh",
        },
    )
    body = r.json()
    assert r.status_code == 200
    assert set(body) >= {"access_token", "instance_url", "id", "token_type", "issued_at", "signature"}
    assert body["token_type"] == "Bearer" and body["instance_url"] == sandbox.url


@pytest.mark.parametrize("basic", [False, True])
def test_client_credentials_grant(sandbox, basic):
    data = {"grant_type": "client_credentials"}
    headers = {}
    if basic:
        headers["Authorization"] = (
            "Basic " + base64.b64encode(b"appflow-sandbox:appflow-sandbox-secret").decode()
        )
    else:
        data.update(client_id="appflow-sandbox", client_secret="appflow-sandbox-secret")
    r = httpx.post(f"{sandbox.url}/services/oauth2/token", data=data, headers=headers)
    assert r.status_code == 200
    tok = r.json()["access_token"]
    assert (
        httpx.get(f"{sandbox.url}{V}/sobjects", headers={"Authorization": f"Bearer {tok}"}).status_code == 200
    )


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (
            {
                "grant_type": "refresh_token",
                "client_id": "appflow-sandbox",
                "client_secret": "appflow-sandbox-secret",
                "refresh_token": "nope",
            },
            "invalid_grant",
        ),
        (
            {"grant_type": "client_credentials", "client_id": "appflow-sandbox", "client_secret": "wrong"},
            "invalid_client",
        ),
        (
            {
                "grant_type": "client_credentials",
                "client_id": "other",
                "client_secret": "appflow-sandbox-secret",
            },
            "invalid_client_id",
        ),
        ({"grant_type": "password", "client_id": "appflow-sandbox"}, "unsupported_grant_type"),
    ],
)
def test_token_failures(sandbox, data, error):
    r = httpx.post(f"{sandbox.url}/services/oauth2/token", data=data)
    assert r.status_code == 400
    assert r.json()["error"] == error and r.json()["error_description"]


def test_expired_and_unknown_tokens(sandbox):
    tok = get_token(sandbox)
    h = {"Authorization": f"Bearer {tok}"}
    assert httpx.get(f"{sandbox.url}{V}/sobjects", headers=h).status_code == 200
    sandbox.expire_tokens()
    r = httpx.get(f"{sandbox.url}{V}/sobjects", headers=h)
    assert r.status_code == 401
    assert r.json() == [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
    assert httpx.get(f"{sandbox.url}{V}/query", params={"q": "SELECT Id FROM Account"}).status_code == 401


def test_token_lifetime():
    with SalesforceSandbox(records=10, token_lifetime_s=0) as sb:
        tok = get_token(sb)
        assert httpx.get(f"{sb.url}{V}/", headers={"Authorization": f"Bearer {tok}"}).status_code == 401


def test_versions_and_resources(sandbox, client):
    versions = httpx.get(f"{sandbox.url}/services/data/").json()
    by = {v["version"]: v for v in versions}
    assert {f"{n}.0" for n in range(52, 63)} <= set(by)
    assert by["59.0"] == {"label": "Winter '24", "url": "/services/data/v59.0", "version": "59.0"}
    res = client.get(f"{V}/").json()
    assert res["query"] == f"{V}/query" and res["sobjects"] == f"{V}/sobjects"
    assert client.get("/services/data/v99.0/sobjects").status_code == 404


def test_describe_global_and_object(client):
    g = client.get(f"{V}/sobjects").json()
    assert g["encoding"] == "UTF-8" and g["maxBatchSize"] == 200
    names = {s["name"]: s for s in g["sobjects"]}
    assert {"Account", "Contact", "Opportunity", "Lead", "Case"} <= set(names)
    assert names["Lead"]["keyPrefix"] == "00Q" and names["Account"]["queryable"]
    d = client.get(f"{V}/sobjects/Account/describe").json()
    fields = {f["name"]: f for f in d["fields"]}
    assert len(fields) >= 30
    assert fields["Id"]["type"] == "id" and fields["CreatedDate"]["type"] == "datetime"
    assert fields["AnnualRevenue"]["type"] == "currency" and fields["Industry"]["picklistValues"]
    assert {
        "string",
        "textarea",
        "picklist",
        "double",
        "currency",
        "int",
        "boolean",
        "date",
        "datetime",
        "reference",
        "phone",
        "url",
    } <= {f["type"] for f in d["fields"]}
    assert fields["NumberOfEmployees"]["filterable"] and not fields["Id"]["nillable"]
    c = client.get(f"{V}/sobjects/Contact/describe").json()
    acc = next(f for f in c["fields"] if f["name"] == "AccountId")
    assert acc["referenceTo"] == ["Account"] and acc["relationshipName"] == "Account"
    basic = client.get(f"{V}/sobjects/Account/").json()
    assert basic["objectDescribe"]["name"] == "Account" and basic["recentItems"]


def test_unknown_object_and_record(client):
    nf = [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]
    assert client.get(f"{V}/sobjects/Nope/describe").json() == nf
    assert client.get(f"{V}/sobjects/Nope/describe").status_code == 404
    assert client.get(f"{V}/sobjects/Account/001000000000000AAA").status_code == 404


def test_get_record_with_fields(client):
    rec = client.get(f"{V}/query", params={"q": "SELECT Id, Name FROM Account LIMIT 1"}).json()["records"][0]
    full = client.get(f"{V}/sobjects/Account/{rec['Id']}").json()
    assert full["Name"] == rec["Name"] and full["attributes"]["type"] == "Account" and len(full) > 30
    some = client.get(f"{V}/sobjects/Account/{rec['Id']}", params={"fields": "Name,Industry"}).json()
    assert set(some) == {"attributes", "Name", "Industry"}
    assert client.get(f"{V}/sobjects/Account/{rec['Id'][:15]}").json()["Id"] == rec["Id"]


def test_paging_with_next_records_url(client):
    r = client.get(f"{V}/query", params={"q": "SELECT Id FROM Account"}).json()
    live = RECORDS["Account"] - RECORDS["Account"] // 50
    assert r["totalSize"] == live and not r["done"] and len(r["records"]) == 2000
    assert r["nextRecordsUrl"].startswith(f"{V}/query/01g") and r["nextRecordsUrl"].endswith("-2000")
    ids = [x["Id"] for x in r["records"]]
    while not r["done"]:
        r = client.get(r["nextRecordsUrl"]).json()
        ids += [x["Id"] for x in r["records"]]
    assert len(ids) == live == len(set(ids)) and ids == sorted(ids)
    assert "nextRecordsUrl" not in r


def test_batch_size_header(client):
    r = client.get(
        f"{V}/query",
        params={"q": "SELECT Id FROM Account"},
        headers={"Sforce-Query-Options": "batchSize=500"},
    ).json()
    assert len(r["records"]) == 500 and r["nextRecordsUrl"].endswith("-500")
    assert len(client.get(r["nextRecordsUrl"]).json()["records"]) == 500


def test_query_all_shows_deleted(client):
    q = {"q": "SELECT Id, IsDeleted FROM Account WHERE IsDeleted = true"}
    assert client.get(f"{V}/query", params=q).json()["totalSize"] == 0
    deleted = client.get(f"{V}/queryAll", params=q).json()
    assert deleted["totalSize"] == RECORDS["Account"] // 50
    assert all(r["IsDeleted"] for r in deleted["records"])
    total = client.get(f"{V}/queryAll", params={"q": "SELECT COUNT() FROM Account"}).json()
    assert total == {"totalSize": RECORDS["Account"], "done": True, "records": []}


@pytest.mark.parametrize(
    ("soql", "code"),
    [
        ("SELECT Id FROM Account WHERE", "MALFORMED_QUERY"),
        ("SELEC Id FROM Account", "MALFORMED_QUERY"),
        ("SELECT Id FROM Account WHERE Name = 'a' AND Name = 'b' OR Name = 'c'", "MALFORMED_QUERY"),
        ("SELECT Nope FROM Account", "INVALID_FIELD"),
        ("SELECT Id FROM Account WHERE Nope = 1", "INVALID_FIELD"),
        ("SELECT Id FROM Account WHERE CreatedDate > 2024-01-01", "INVALID_FIELD"),
        ("SELECT Id FROM Nope", "INVALID_TYPE"),
    ],
)
def test_query_errors(client, soql, code):
    r = client.get(f"{V}/query", params={"q": soql})
    assert r.status_code == 400
    [err] = r.json()
    assert err["errorCode"] == code and "ERROR at Row:1:Column:" in err["message"]


def test_invalid_locator(client):
    r = client.get(f"{V}/query/01gAAAAAAAAAAAAAAA-2000")
    assert r.status_code == 400 and r.json()[0]["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_datetime_rendering_and_window(client):
    q = (
        "SELECT Id, CreatedDate, LastModifiedDate, SystemModstamp, LastActivityDate, AnnualRevenue FROM Account "
        "WHERE LastModifiedDate >= 2024-05-01T00:00:00Z AND LastModifiedDate < 2024-05-02T00:00:00.000+00:00"
    )
    r = client.get(f"{V}/query", params={"q": q}).json()
    assert 0 < r["totalSize"] < 200
    for rec in r["records"]:
        assert rec["LastModifiedDate"].startswith("2024-05-01T") and rec["LastModifiedDate"].endswith(
            ".000+0000"
        )
        assert len(rec["CreatedDate"]) == 28 and rec["SystemModstamp"] == rec["LastModifiedDate"]
        assert rec["LastActivityDate"] is None or len(rec["LastActivityDate"]) == 10
        assert isinstance(rec["AnnualRevenue"], float)
    assert NOW.year == 2024


def test_same_seed_same_data():
    pages = []
    for _ in range(2):
        with (
            SalesforceSandbox(seed=3, records=300, now=NOW) as sb,
            httpx.Client(base_url=sb.url, headers={"Authorization": f"Bearer {get_token(sb)}"}) as c,
        ):
            pages.append(c.get(f"{V}/query", params={"q": "SELECT FIELDS(STANDARD) FROM Contact"}).content)
    assert pages[0] == pages[1]
    with (
        SalesforceSandbox(seed=4, records=300, now=NOW) as sb,
        httpx.Client(base_url=sb.url, headers={"Authorization": f"Bearer {get_token(sb)}"}) as c,
    ):
        assert c.get(f"{V}/query", params={"q": "SELECT FIELDS(STANDARD) FROM Contact"}).content != pages[0]
