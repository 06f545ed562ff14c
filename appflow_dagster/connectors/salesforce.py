"""Salesforce source over the REST API (v58.0, the version AppFlow uses for connections made since
June 2023, seeds/003 "History of supported Salesforce Platform API versions").

``describe`` maps Salesforce field types to Arrow; ``read`` builds SOQL (window and pushed-down
filters in ``WHERE``), follows ``nextRecordsUrl`` and yields one record batch per page. Pages are
fetched by a background thread one page ahead of parsing, and parsed without per-record Python
(:mod:`appflow_dagster.connectors.salesforce_page`).

Compound fields (``address``, ``location``) are left out of ``describe`` and of every query: their
components (``BillingStreet``, ``BillingLatitude``, ...) are ordinary fields and are read instead,
as AppFlow's Bulk API 2.0 path does (seeds/003:208).
"""

import logging
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import httpx
import orjson
import polars as pl
import pyarrow as pa

from appflow_dagster.connectors.base import Condition, ConnectorError, FieldInfo, ObjectInfo, Window
from appflow_dagster.connectors.http import (
    DEFAULT_RETRY,
    TRANSIENT_STATUS,
    RetryPolicy,
    new_client,
    request_with_retries,
)
from appflow_dagster.connectors.salesforce_auth import SalesforceAuth
from appflow_dagster.connectors.salesforce_page import (
    FrameSpec,
    Page,
    records_to_batch,
    records_to_frame,
    split_page,
)
from appflow_dagster.connectors.salesforce_soql import (
    COMPOUND_TYPES,
    STRING_TYPES,
    build_soql,
    check_name,
    select_fields,
)
from appflow_dagster.connectors.salesforce_soql import can_push_down as _can_push_down
from appflow_dagster.connectors.secrets import (
    Secret,
    parse_ref,
    resolve,
    resolve_string,
    resolve_value,
)
from appflow_dagster.spec.model import ConnectorProfile, CredentialRef

__all__ = ["SALESFORCE_ARROW_TYPES", "SalesforceConnector", "arrow_type"]

log = logging.getLogger(__name__)

_STRING = pa.string()
SALESFORCE_ARROW_TYPES: dict[str, pa.DataType] = {
    **{t: _STRING for t in STRING_TYPES},
    "time": _STRING,  # ``HH:MM:SS.sssZ``: kept as text, Arrow has no zoned time of day
    "base64": _STRING,  # a query returns the blob's REST path, not its content
    "anyType": _STRING,
    "boolean": pa.bool_(),
    "int": pa.int64(),
    "long": pa.int64(),
    "double": pa.float64(),
    "currency": pa.float64(),
    "percent": pa.float64(),
    "date": pa.date32(),
    "datetime": pa.timestamp("us", "UTC"),
}
#: Error codes Salesforce returns for conditions that pass (besides HTTP 429/5xx).
TRANSIENT_CODES = frozenset({"REQUEST_LIMIT_EXCEEDED", "SERVER_UNAVAILABLE", "UNABLE_TO_LOCK_ROW"})
_DATA_PREFIX = "/services/data/"
#: Parsed pages waiting for the consumer; bounds memory to a few pages.
_PREFETCH_DEPTH = 2
_DONE = object()
_T = TypeVar("_T")


def arrow_type(salesforce_type: str) -> pa.DataType:
    """The Arrow type for a Salesforce field type (unknown types are read as strings)."""
    return SALESFORCE_ARROW_TYPES.get(salesforce_type, _STRING)


def _error_of(response: httpx.Response) -> tuple[str | None, str]:
    """Salesforce's ``[{"errorCode", "message"}]`` (or OAuth's ``{"error", ...}``) → (code, message)."""
    try:
        data = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None, response.text[:300]
    if isinstance(data, list) and data and isinstance(data[0], dict):
        data = data[0]
    if isinstance(data, dict):
        code = data.get("errorCode") or data.get("error")
        message = data.get("message") or data.get("error_description") or ""
        return (str(code) if code else None), str(message)
    return None, ""


def _is_transient(response: httpx.Response) -> bool:
    if response.status_code in TRANSIENT_STATUS:
        return True
    if response.status_code >= 400:
        return _error_of(response)[0] in TRANSIENT_CODES
    return False


class SalesforceConnector:
    """A Salesforce org as a :class:`~appflow_dagster.connectors.base.SourceConnector`."""

    connector_type = "Salesforce"

    def __init__(
        self,
        auth: SalesforceAuth,
        *,
        api_version: str = "58.0",
        http_client: httpx.Client | None = None,
        retry: RetryPolicy = DEFAULT_RETRY,
        prefetch: bool = True,
    ):
        self._auth = auth
        self.instance_url = auth.instance_url.rstrip("/")
        self.api_version = api_version
        self._owns_http = http_client is None
        self._http = http_client if http_client is not None else new_client()
        self._retry = retry
        self._prefetch = prefetch
        self._describe_cache: dict[str, ObjectInfo] = {}
        #: ``totalSize`` of the last query read (for metadata; None before the first page).
        self.last_total_size: int | None = None

    def __repr__(self) -> str:
        return f"SalesforceConnector({self.instance_url!r}, api_version={self.api_version!r})"

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def from_profile(
        cls,
        profile: ConnectorProfile,
        *,
        secretsmanager_client: Any = None,
        api_version: str = "58.0",
        http_client: httpx.Client | None = None,
        **kwargs: Any,
    ) -> "SalesforceConnector":
        """Build from an AppFlow Salesforce connector profile (``SalesforceConnectorProfileCredentials``).

        The connected app's id and secret come from the secret ``clientCredentialsArn`` points at:
        a JSON object ``{"clientId": ..., "clientSecret": ...}`` (seeds/000:1345-1356, 001:14331).
        """
        sm = secretsmanager_client
        props = profile.properties
        raw_url = props.get("instanceUrl")
        if not isinstance(raw_url, str) or not raw_url:
            raise ConnectorError(f"connection profile {profile.name!r}: instanceUrl is required")
        instance_url = resolve_string(raw_url, secretsmanager_client=sm).rstrip("/")
        if not instance_url.startswith(("https://", "http://")):
            raise ConnectorError(f"connection profile {profile.name!r}: instanceUrl must be an http(s) URL")
        creds = profile.credentials
        grant = str(creds.get("oAuth2GrantType") or "AUTHORIZATION_CODE").upper()
        if grant not in ("AUTHORIZATION_CODE", "CLIENT_CREDENTIALS", "JWT_BEARER"):
            raise ConnectorError(f"connection profile {profile.name!r}: unknown oAuth2GrantType {grant!r}")
        client_id = client_secret = None
        arn = creds.get("clientCredentialsArn") or creds.get("clientCredsARN")  # the older guide's spelling
        if arn is not None:
            client_id, client_secret = _client_credentials(arn, sm)
        auth = SalesforceAuth(
            instance_url=instance_url,
            grant_type=grant,  # type: ignore[arg-type]
            client_id=client_id,
            client_secret=client_secret,
            refresh_token=resolve_value(creds.get("refreshToken"), secretsmanager_client=sm),
            access_token=resolve_value(creds.get("accessToken"), secretsmanager_client=sm),
            jwt_token=resolve_value(creds.get("jwtToken"), secretsmanager_client=sm),
        )
        return cls(auth, api_version=api_version, http_client=http_client, **kwargs)

    # -- HTTP ---------------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        if not path.startswith(_DATA_PREFIX):  # nextRecordsUrl must stay on this org's data API
            raise ConnectorError(f"unexpected Salesforce URL path {path[:80]!r}", code="BAD_RESPONSE")
        return self.instance_url + path

    def _data_path(self, suffix: str) -> str:
        return f"{_DATA_PREFIX}v{self.api_version}/{suffix}"

    def _get(self, path: str, params: dict[str, str] | None = None) -> httpx.Response:
        """GET with retries; on 401 refresh the token and try once more; errors → ConnectorError."""
        url = self._url(path)
        for attempt in (1, 2):
            header = self._auth.authorization(self._http, self._retry)
            try:
                response = request_with_retries(
                    self._http,
                    "GET",
                    url,
                    policy=self._retry,
                    is_transient=_is_transient,
                    params=params,
                    headers={"Authorization": header, "Accept": "application/json"},
                )
            except httpx.HTTPError as exc:
                raise ConnectorError(
                    self._auth.redact(f"Salesforce request failed after retries: {type(exc).__name__}: {exc}")
                ) from None
            if response.status_code == 401 and attempt == 1 and self._auth.can_refresh:
                log.info("Salesforce rejected the session (HTTP 401); refreshing the access token")
                self._auth.refresh(self._http, self._retry, stale=Secret(header.removeprefix("Bearer ")))
                continue
            break
        if response.status_code >= 400:
            code, message = _error_of(response)
            raise ConnectorError(
                self._auth.redact(f"Salesforce HTTP {response.status_code} {code or ''}: {message}".strip()),
                status=response.status_code,
                code=code,
            )
        return response

    def _json(self, path: str, params: dict[str, str] | None = None) -> Any:
        return orjson.loads(self._get(path, params).content)

    # -- describe -----------------------------------------------------------------------------

    def list_objects(self) -> list[str]:
        """Names of the queryable sObjects."""
        data = self._json(self._data_path("sobjects"))
        return sorted(o["name"] for o in data.get("sobjects", []) if o.get("queryable", True))

    def describe(self, object_name: str) -> ObjectInfo:
        """Fields and their Arrow types (compound fields left out; cached per connector)."""
        cached = self._describe_cache.get(object_name)
        if cached is not None:
            return cached
        data = self._json(self._data_path(f"sobjects/{check_name(object_name)}/describe"))
        fields = tuple(
            FieldInfo(
                name=f["name"],
                source_type=f.get("type", "string"),
                arrow_type=arrow_type(f.get("type", "string")),
                label=f.get("label"),
                nullable=bool(f.get("nillable", True)) or f.get("type") == "boolean",
                filterable=bool(f.get("filterable", True)),
            )
            for f in data.get("fields", [])
            if f.get("type") not in COMPOUND_TYPES
        )
        info = ObjectInfo(name=data.get("name", object_name), label=data.get("label"), fields=fields)
        self._describe_cache[object_name] = info
        return info

    def can_push_down(self, object_name: str, condition: Condition) -> bool:
        return _can_push_down(self.describe(object_name), condition)

    # -- read ---------------------------------------------------------------------------------

    def soql(
        self,
        object_name: str,
        fields: Sequence[str] | None = None,
        window: Window | None = None,
        window_field: str | None = None,
        conditions: Sequence[Condition] = (),
    ) -> str:
        """The SOQL ``read`` would run (for logs and metadata: it holds no secrets)."""
        info = self.describe(object_name)
        return build_soql(info, select_fields(info, fields), window, window_field, conditions)

    def count(
        self,
        object_name: str,
        window: Window | None = None,
        window_field: str | None = None,
        conditions: Sequence[Condition] = (),
        *,
        include_deleted: bool = False,
    ) -> int:
        """``SELECT COUNT() ...`` with the same WHERE clause as :meth:`read`."""
        info = self.describe(object_name)
        soql = build_soql(info, info.fields[:1], window, window_field, conditions)
        soql = "SELECT COUNT() FROM" + soql.split(" FROM", 1)[1]
        data = self._json(self._data_path("queryAll" if include_deleted else "query"), {"q": soql})
        return int(data["totalSize"])

    def read(
        self,
        object_name: str,
        fields: Sequence[str] | None = None,
        window: Window | None = None,
        window_field: str | None = None,
        conditions: Sequence[Condition] = (),
        *,
        include_deleted: bool = False,
    ) -> Iterator[pa.RecordBatch]:
        """Yield one batch per query page, schema = the selected describe fields in order.

        ``include_deleted`` (AppFlow's ``includeDeletedRecords``) queries ``queryAll``, which also
        returns deleted and archived records.
        """
        selected, schema, pages = self._query(
            object_name, fields, window, window_field, conditions, include_deleted
        )
        yield from self._parsed(pages, lambda page: records_to_batch(page.records, selected, schema))

    def read_frames(
        self,
        object_name: str,
        fields: Sequence[str] | None = None,
        window: Window | None = None,
        window_field: str | None = None,
        conditions: Sequence[Condition] = (),
        *,
        include_deleted: bool = False,
    ) -> Iterator[pl.DataFrame]:
        """:meth:`read` as polars frames (each equal to ``pl.from_arrow`` of :meth:`read`'s batch),
        parsed straight into polars. The transfer engine uses this when a source offers it."""
        selected, schema, pages = self._query(
            object_name, fields, window, window_field, conditions, include_deleted
        )
        spec = FrameSpec.of(selected, schema)
        yield from self._parsed(pages, lambda page: records_to_frame(page.records, spec))

    def _query(
        self,
        object_name: str,
        fields: Sequence[str] | None,
        window: Window | None,
        window_field: str | None,
        conditions: Sequence[Condition],
        include_deleted: bool,
    ) -> tuple[list[FieldInfo], pa.Schema, Iterator[Page]]:
        info = self.describe(object_name)
        selected = select_fields(info, fields)
        schema = pa.schema([pa.field(f.name, f.arrow_type, nullable=True) for f in selected])
        soql = build_soql(info, selected, window, window_field, conditions)
        log.info("Salesforce query: %s", soql)
        first = (self._data_path("queryAll" if include_deleted else "query"), {"q": soql})
        return list(selected), schema, self._pages(first)

    def _pages(self, first: tuple[str, dict[str, str]]) -> Iterator[Page]:
        path: str | None
        path, params = first
        while path is not None:
            page = split_page(self._get(path, params).content)
            params = {}
            if page.total_size is not None:
                self.last_total_size = page.total_size
            path = None if page.done else page.next_records_url
            if not page.done and path is None:
                raise ConnectorError(
                    "Salesforce page is not done but has no nextRecordsUrl", code="BAD_RESPONSE"
                )
            yield page

    def _parsed(self, pages: Iterator[Page], parse: Callable[[Page], _T]) -> Iterator[_T]:
        """``parse`` of each page. With prefetching, a pipeline of two threads ahead of the
        consumer: one downloads page N+2 while the other parses page N+1 (polars releases the GIL
        while parsing JSON) while the engine transforms and writes page N."""
        if not self._prefetch:
            return (parse(page) for page in pages)
        return self._prefetched(parse(page) for page in self._prefetched(pages, "salesforce-fetch"))

    def _prefetched(self, items: Iterator[_T], name: str = "salesforce-prefetch") -> Iterator[_T]:
        """``items`` produced by a thread of their own, a few ahead of the consumer."""
        q: queue.Queue[Any] = queue.Queue(maxsize=_PREFETCH_DEPTH)
        stop = threading.Event()

        def put(item: Any) -> bool:
            while not stop.is_set():
                try:
                    q.put(item, timeout=0.1)
                    return True
                except queue.Full:
                    continue
            return False

        def produce() -> None:
            try:
                for item in items:
                    if not put(item):
                        return
                put(_DONE)
            except BaseException as exc:  # handed to the consumer, which re-raises it
                put(exc)
            finally:
                close = getattr(items, "close", None)
                if close is not None:  # stops an upstream prefetch thread now, not at garbage collection
                    close()

        thread = threading.Thread(target=produce, name=name, daemon=True)
        thread.start()
        try:
            while True:
                item = q.get()
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            # A producer inside an HTTP retry cannot be interrupted; it is a daemon and exits at its
            # next step once it sees `stop` (or the closed client), so do not hold the failure up.
            thread.join(timeout=1)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> "SalesforceConnector":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _client_credentials(arn: CredentialRef | str, sm: Any) -> tuple[Secret | None, Secret | None]:
    """``{"clientId", "clientSecret"}`` from the secret ``clientCredentialsArn`` names."""
    ref = arn if isinstance(arn, CredentialRef) else parse_ref(arn)
    if ref is None:
        raise ConnectorError(
            "clientCredentialsArn must be a Secrets Manager ARN or a {{resolve:...}} reference"
        )
    value = resolve(ref, secretsmanager_client=sm)
    nested = parse_ref(value)  # an env var may hold the ARN of the real secret
    if nested is not None and nested.kind == "secretsmanager":
        value = resolve(nested, secretsmanager_client=sm)
    try:
        obj = orjson.loads(value)
    except orjson.JSONDecodeError:
        obj = None
    if not isinstance(obj, dict) or "clientId" not in obj:
        raise ConnectorError(f"the secret {ref} must be a JSON object with clientId and clientSecret")
    secret = obj.get("clientSecret")
    return Secret(str(obj["clientId"])), (Secret(str(secret)) if secret else None)


def connector_from_profile(
    profile: ConnectorProfile, *, secretsmanager_client: Any = None
) -> SalesforceConnector:
    """The registry factory (``CONNECTORS["Salesforce"]``)."""
    return SalesforceConnector.from_profile(profile, secretsmanager_client=secretsmanager_client)
