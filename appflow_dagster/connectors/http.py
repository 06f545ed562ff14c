"""Shared HTTP plumbing for connectors: one keep-alive ``httpx.Client`` and retries with stamina.

Transient failures (connect errors, timeouts, dropped connections, 429 and 500/502/503/504, plus
whatever a connector's ``is_transient`` adds) are retried with exponential backoff and jitter, a
bounded number of attempts, and ``Retry-After`` honoured. Anything else is handed back to the
caller, which turns it into a :class:`~appflow_dagster.connectors.base.ConnectorError`.
"""

import email.utils
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import stamina

__all__ = [
    "DEFAULT_RETRY",
    "TRANSIENT_STATUS",
    "RetryPolicy",
    "TransientResponse",
    "new_client",
    "request_with_retries",
    "retry_after_seconds",
]

log = logging.getLogger(__name__)

TRANSIENT_STATUS: frozenset[int] = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to retry one request. ``timeout`` bounds the total time spent, waits included."""

    attempts: int = 6
    timeout: float = 300.0
    wait_initial: float = 0.5
    wait_max: float = 30.0
    wait_jitter: float = 1.0
    #: Longest ``Retry-After`` honoured; longer values are clamped to this.
    max_retry_after: float = 120.0


DEFAULT_RETRY = RetryPolicy()


class TransientResponse(Exception):
    """Raised inside the retry loop for a response worth retrying; never escapes it."""

    def __init__(self, response: httpx.Response, retry_after: float | None):
        self.response = response
        self.retry_after = retry_after
        super().__init__(f"HTTP {response.status_code}")


def new_client(
    *,
    base_url: str = "",
    timeout: httpx.Timeout | float | None = None,
    transport: httpx.BaseTransport | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Client:
    """A sync HTTP/1.1 keep-alive client (measured faster than AsyncClient for page-by-page reads)."""
    return httpx.Client(
        base_url=base_url,
        timeout=timeout if timeout is not None else httpx.Timeout(60.0, connect=10.0),
        limits=httpx.Limits(max_connections=8, max_keepalive_connections=8, keepalive_expiry=60.0),
        transport=transport,
        headers=headers,
        follow_redirects=False,
    )


def retry_after_seconds(response: httpx.Response) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date), or None."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def default_is_transient(response: httpx.Response) -> bool:
    return response.status_code in TRANSIENT_STATUS


def request_with_retries(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    policy: RetryPolicy = DEFAULT_RETRY,
    is_transient: Callable[[httpx.Response], bool] = default_is_transient,
    prepare: Callable[[], dict[str, Any]] | None = None,
    **kwargs: Any,
) -> httpx.Response:
    """Send a request, retrying transient failures; return the final response (maybe an error one).

    ``prepare`` is called before every attempt and its result merged into ``kwargs`` (e.g. a fresh
    ``Authorization`` header after a token refresh). Transport errors that outlive the retries are
    re-raised as httpx raised them; their messages hold the URL, never request headers.
    """

    def backoff(exc: Exception) -> bool | float:
        if isinstance(exc, TransientResponse):
            if exc.retry_after is not None:
                return min(exc.retry_after, policy.max_retry_after)
            return True
        return isinstance(exc, httpx.TransportError)

    response: httpx.Response | None = None
    try:
        for attempt in stamina.retry_context(
            on=backoff,
            attempts=policy.attempts,
            timeout=policy.timeout,
            wait_initial=policy.wait_initial,
            wait_max=policy.wait_max,
            wait_jitter=policy.wait_jitter,
        ):
            with attempt:
                extra = prepare() if prepare else {}
                response = client.request(method, url, **{**kwargs, **extra})
                if attempt.num < policy.attempts and is_transient(response):
                    log.warning(
                        "transient HTTP %s from %s %s (attempt %d of %d)",
                        response.status_code,
                        method,
                        response.request.url.copy_with(query=None),
                        attempt.num,
                        policy.attempts,
                    )
                    raise TransientResponse(response, retry_after_seconds(response))
    except TransientResponse as exc:  # the overall timeout ran out: hand back the last answer
        return exc.response
    assert response is not None
    return response
