"""A tiny in-memory Salesforce for unit tests over ``httpx.MockTransport`` (the sandbox covers the rest)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs

import httpx
import orjson

from appflow_dagster.connectors.http import RetryPolicy
from appflow_dagster.connectors.salesforce import SalesforceConnector
from appflow_dagster.connectors.salesforce_auth import SalesforceAuth
from appflow_dagster.connectors.secrets import Secret

BASE = "https://example.my.salesforce.com"
CLIENT_ID = "fake-client-id"
CLIENT_SECRET = "CANARY-client-secret-7f3a"
REFRESH_TOKEN = "CANARY-refresh-token-91bc"

ACCOUNT_FIELDS = [
    {"name": "Id", "type": "id", "nillable": False, "filterable": True, "label": "Account ID"},
    {"name": "Name", "type": "string", "nillable": False, "filterable": True},
    {"name": "Description", "type": "textarea", "nillable": True, "filterable": False},
    {"name": "Industry", "type": "picklist", "nillable": True, "filterable": True},
    {"name": "Tags__c", "type": "multipicklist", "nillable": True, "filterable": True},
    {"name": "NumberOfEmployees", "type": "int", "nillable": True, "filterable": True},
    {"name": "AnnualRevenue", "type": "currency", "nillable": True, "filterable": True},
    {"name": "Score__c", "type": "double", "nillable": True, "filterable": True},
    {"name": "IsActive__c", "type": "boolean", "nillable": False, "filterable": True},
    {"name": "Founded__c", "type": "date", "nillable": True, "filterable": True},
    {"name": "Opens__c", "type": "time", "nillable": True, "filterable": True},
    {"name": "BillingAddress", "type": "address", "nillable": True, "filterable": False},
    {"name": "BillingCity", "type": "string", "nillable": True, "filterable": True},
    {"name": "LastModifiedDate", "type": "datetime", "nillable": False, "filterable": True},
]


def account(i: int) -> dict:
    return {
        "attributes": {"type": "Account", "url": f"/services/data/v58.0/sobjects/Account/001{i:015d}"},
        "Id": f"001{i:015d}",
        "Name": f"Acme {i} 'quoted' \"double\" \\ back",
        "Description": None if i % 3 else "line\nbreak",
        "Industry": "Energy",
        "Tags__c": "a;b",
        "NumberOfEmployees": i,
        "AnnualRevenue": 1000 if i % 2 else 1234.5,
        "Score__c": i / 7,
        "IsActive__c": i % 2 == 0,
        "Founded__c": "2001-02-03",
        "Opens__c": "09:00:00.000Z",
        "BillingAddress": {"city": "Paris", "country": "FR"},
        "BillingCity": "Paris",
        "LastModifiedDate": f"2024-05-01T12:34:{i % 60:02d}.{i % 1000:03d}+0000",
    }


@dataclass
class FakeSalesforce:
    """Serves token, sobjects, describe and paged query; ``script`` can inject responses per path."""

    records: int = 5
    page_size: int = 2
    access_token: str = "CANARY-access-token-0001"
    tokens_issued: int = 0
    requests: list[httpx.Request] = field(default_factory=list)
    #: Responses to return (in order) before normal service, for requests whose path contains the key.
    script: dict[str, list[httpx.Response]] = field(default_factory=dict)
    on_query: Callable[[str], None] | None = None

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        for key, responses in self.script.items():
            if key in path and responses:
                return responses.pop(0)
        if path == "/services/oauth2/token":
            form = parse_qs(request.content.decode())
            if form.get("client_secret") != [CLIENT_SECRET]:
                return httpx.Response(
                    400, json={"error": "invalid_client", "error_description": "bad secret"}
                )
            if form["grant_type"] == ["refresh_token"] and form.get("refresh_token") != [REFRESH_TOKEN]:
                return httpx.Response(400, json={"error": "invalid_grant", "error_description": "expired"})
            self.tokens_issued += 1
            self.access_token = f"CANARY-access-token-{self.tokens_issued:04d}"
            return httpx.Response(200, json={"access_token": self.access_token, "token_type": "Bearer"})
        if request.headers.get("authorization") != f"Bearer {self.access_token}":
            return httpx.Response(
                401, json=[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
            )
        if path.endswith("/sobjects"):
            return httpx.Response(
                200,
                json={
                    "sobjects": [{"name": "Account", "queryable": True}, {"name": "X", "queryable": False}]
                },
            )
        if path.endswith("/Account/describe"):
            return httpx.Response(200, json={"name": "Account", "label": "Account", "fields": ACCOUNT_FIELDS})
        if path.endswith("/query") or path.endswith("/queryAll"):
            if self.on_query:
                self.on_query(request.url.params["q"])
            return self._page(0)
        if "/query/" in path:
            return self._page(int(path.rsplit("-", 1)[1]))
        return httpx.Response(404, json=[{"message": "not found", "errorCode": "NOT_FOUND"}])

    def _page(self, start: int) -> httpx.Response:
        end = min(start + self.page_size, self.records)
        body = {"totalSize": self.records, "done": end >= self.records}
        if end < self.records:
            body["nextRecordsUrl"] = f"/services/data/v58.0/query/01gFAKE-{end}"
        body["records"] = [account(i) for i in range(start, end)]
        return httpx.Response(200, content=orjson.dumps(body))

    def connector(
        self, *, with_token: bool = True, grant: str = "AUTHORIZATION_CODE", **kwargs
    ) -> SalesforceConnector:
        auth = SalesforceAuth(
            instance_url=BASE,
            grant_type=grant,  # type: ignore[arg-type]
            client_id=Secret(CLIENT_ID),
            client_secret=Secret(CLIENT_SECRET),
            refresh_token=Secret(REFRESH_TOKEN),
            access_token=Secret(self.access_token) if with_token else None,
        )
        http = httpx.Client(transport=httpx.MockTransport(self.handler))
        retry = RetryPolicy(attempts=4, wait_initial=0.0, wait_max=0.0, wait_jitter=0.0, max_retry_after=5)
        return SalesforceConnector(auth, http_client=http, retry=retry, **kwargs)
