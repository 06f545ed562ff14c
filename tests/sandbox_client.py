"""Talking to the Salesforce sandbox from tests as a plain HTTP client would (an independent
oracle: no project connector code)."""

import httpx

CLIENT = {"client_id": "appflow-sandbox", "client_secret": "appflow-sandbox-secret"}


def token(url: str, grant_type: str = "refresh_token") -> str:
    """An access token from the sandbox's OAuth endpoint with its public demo client."""
    data = {"grant_type": grant_type, **CLIENT}
    if grant_type == "refresh_token":
        data["refresh_token"] = "appflow-sandbox-refresh"
    r = httpx.post(f"{url}/services/oauth2/token", data=data)
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def client(url: str, grant_type: str = "refresh_token") -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token(url, grant_type)}"})


def count(url: str, soql: str, endpoint: str = "query") -> int:
    """``totalSize`` of a SOQL query (``query`` or ``queryAll``)."""
    with client(url) as c:
        r = c.get(f"/services/data/v58.0/{endpoint}", params={"q": soql})
        r.raise_for_status()
        return int(r.json()["totalSize"])
