"""OAuth 2.0 for Salesforce: refresh-token, client-credentials and JWT-bearer grants.

Tokens come from ``{instanceUrl}/services/oauth2/token`` (a real org's My Domain serves it). Request
bodies are prepared by authlib; they go out through the connector's own ``httpx.Client`` so retries,
timeouts and test transports apply to token calls too. Every credential is a
:class:`~appflow_dagster.connectors.secrets.Secret`, and token errors carry Salesforce's ``error``
code and description only.
"""

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Literal

import httpx
import orjson
from authlib.oauth2.rfc6749 import OAuth2Token
from authlib.oauth2.rfc6749.parameters import prepare_token_request

from appflow_dagster.connectors.base import ConnectorError
from appflow_dagster.connectors.http import RetryPolicy, request_with_retries
from appflow_dagster.connectors.secrets import Secret, redact

__all__ = ["GrantType", "SalesforceAuth", "TOKEN_PATH"]

log = logging.getLogger(__name__)

GrantType = Literal["AUTHORIZATION_CODE", "CLIENT_CREDENTIALS", "JWT_BEARER"]
TOKEN_PATH = "/services/oauth2/token"
JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
#: Refresh this many seconds before a token's announced expiry.
EXPIRY_LEEWAY = 60.0


@dataclass
class SalesforceAuth:
    """Holds the credentials and the current access token; thread-safe refresh.

    ``grant_type`` follows AppFlow's ``oAuth2GrantType``: ``AUTHORIZATION_CODE`` refreshes with the
    refresh token, ``CLIENT_CREDENTIALS`` asks for a token with the connected app's id and secret,
    ``JWT_BEARER`` exchanges a signed JWT (``jwtToken``). An ``access_token`` alone is used as is.
    """

    instance_url: str
    grant_type: GrantType = "AUTHORIZATION_CODE"
    client_id: Secret | None = None
    client_secret: Secret | None = None
    refresh_token: Secret | None = None
    access_token: Secret | None = None
    jwt_token: Secret | None = None
    #: Unix time after which the access token is considered expired (None: unknown, rely on 401s).
    expires_at: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __repr__(self) -> str:
        return f"SalesforceAuth(instance_url={self.instance_url!r}, grant_type={self.grant_type!r})"

    @property
    def can_refresh(self) -> bool:
        if self.grant_type == "CLIENT_CREDENTIALS":
            return bool(self.client_id and self.client_secret)
        if self.grant_type == "JWT_BEARER":
            return bool(self.jwt_token)
        return bool(self.refresh_token and self.client_id)

    def secrets(self) -> list[Secret]:
        """Every secret value held, for :func:`~appflow_dagster.connectors.secrets.redact`."""
        values = (self.client_secret, self.refresh_token, self.access_token, self.jwt_token)
        return [s for s in values if s]

    def redact(self, text: str) -> str:
        return redact(text, self.secrets())

    def authorization(self, http: httpx.Client, policy: RetryPolicy) -> str:
        """The ``Authorization`` header value, fetching or refreshing the token when needed."""
        token = self.access_token
        if token is None or (self.expires_at is not None and time.time() >= self.expires_at):
            token = self.refresh(http, policy, stale=token)
        return "Bearer " + token.reveal()

    def refresh(self, http: httpx.Client, policy: RetryPolicy, *, stale: Secret | None = None) -> Secret:
        """Get a new access token. ``stale`` is the token the caller saw rejected: if another thread
        already replaced it, that newer token is returned instead of refreshing twice."""
        with self._lock:
            current = self.access_token
            fresh = current is not None and current != stale
            if fresh and (self.expires_at is None or time.time() < self.expires_at):
                assert current is not None
                return current
            if not self.can_refresh:
                raise ConnectorError(
                    "Salesforce access token expired or rejected and the profile has no way to refresh it "
                    f"(grant type {self.grant_type}: needs "
                    + {
                        "AUTHORIZATION_CODE": "refreshToken and clientId/clientSecret",
                        "CLIENT_CREDENTIALS": "clientId/clientSecret",
                        "JWT_BEARER": "jwtToken",
                    }[self.grant_type]
                    + ")",
                    status=401,
                    code="INVALID_SESSION_ID",
                )
            data = self._request_token(http, policy)
            access = data.get("access_token")
            if not isinstance(access, str) or not access:
                raise ConnectorError("Salesforce token response has no access_token", code="invalid_grant")
            self.access_token = Secret(access)
            expires_at = OAuth2Token.from_dict({"access_token": "", **_expiry_fields(data)}).get("expires_at")
            self.expires_at = float(expires_at) - EXPIRY_LEEWAY if expires_at else None
            log.info("obtained a Salesforce access token (%s grant)", self.grant_type)
            return self.access_token

    def _token_body(self) -> str:
        cid = self.client_id.reveal() if self.client_id else None
        secret = self.client_secret.reveal() if self.client_secret else None
        extra = {"client_id": cid, "client_secret": secret}
        if self.grant_type == "CLIENT_CREDENTIALS":
            return prepare_token_request("client_credentials", **extra)
        if self.grant_type == "JWT_BEARER":
            assert self.jwt_token is not None
            return prepare_token_request(JWT_BEARER_GRANT, assertion=self.jwt_token.reveal())
        assert self.refresh_token is not None
        return prepare_token_request("refresh_token", refresh_token=self.refresh_token.reveal(), **extra)

    def _request_token(self, http: httpx.Client, policy: RetryPolicy) -> dict:
        url = self.instance_url.rstrip("/") + TOKEN_PATH
        try:
            response = request_with_retries(
                http,
                "POST",
                url,
                policy=policy,
                content=self._token_body().encode(),
                headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise ConnectorError(
                self.redact(f"cannot reach the Salesforce token endpoint {url}: {type(exc).__name__}")
            ) from None
        try:
            data = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            data = {}
        if response.status_code != 200 or not isinstance(data, dict):
            code = str(data.get("error", "")) if isinstance(data, dict) else ""
            desc = str(data.get("error_description", "")) if isinstance(data, dict) else ""
            raise ConnectorError(
                self.redact(
                    f"Salesforce token request ({self.grant_type}) failed: HTTP {response.status_code}"
                    + (f" {code}" if code else "")
                    + (f": {desc}" if desc else "")
                ),
                status=response.status_code,
                code=code or None,
            )
        return data


def _expiry_fields(data: dict) -> dict:
    """Salesforce omits ``expires_in`` (sessions expire by org policy); pass it on when present."""
    out = {}
    for key in ("expires_in", "expires_at"):
        if key in data:
            try:
                out[key] = int(data[key])
            except (TypeError, ValueError):
                pass
    return out
