"""The Salesforce sandbox's rendered-page cache: deterministic locators, byte-identical hits, LRU, pre-rendering."""

import datetime as dt
import threading

import httpx
import pytest
from sandbox_client import client

from appflow_dagster.sandbox.salesforce import SalesforceSandbox
from appflow_dagster.sandbox.salesforce.cache import PageCache
from appflow_dagster.sandbox.salesforce.server import normalize_soql, query_locator

V = "/services/data/v59.0"
NOW = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
RECORDS = {"Account": 4500, "Contact": 50, "Opportunity": 10, "Lead": 10, "Case": 10}
SOQL = "SELECT Id, Name, LastModifiedDate FROM Account"


def _client(sb: SalesforceSandbox) -> httpx.Client:
    return client(sb.url, "client_credentials")


def _pull(c: httpx.Client, soql: str, endpoint: str = "query", headers: dict | None = None) -> list[bytes]:
    r = c.get(f"{V}/{endpoint}", params={"q": soql}, headers=headers)
    assert r.status_code == 200, r.text
    pages = [r.content]
    while (nxt := r.json().get("nextRecordsUrl")) is not None:
        r = c.get(nxt)
        pages.append(r.content)
    return pages


@pytest.fixture(scope="module")
def sandbox():
    with SalesforceSandbox(seed=7, records=RECORDS, now=NOW) as sb:
        yield sb


def test_normalize_and_locator():
    assert (
        normalize_soql("SELECT  Id,Name\nFROM Account  WHERE Name = 'a  b'")
        == "SELECT Id , Name FROM Account WHERE Name = 'a  b'"
    )
    a = query_locator("59.0", False, "SELECT Id FROM Account", 2000)
    assert (
        a == query_locator("59.0", False, " SELECT Id\n FROM   Account ", 2000)
        and len(a) == 18
        and a.startswith("01g")
    )
    assert (
        len(
            {
                a,
                query_locator("58.0", False, "SELECT Id FROM Account", 2000),
                query_locator("59.0", True, "SELECT Id FROM Account", 2000),
                query_locator("59.0", False, "SELECT Id FROM Account", 500),
                query_locator("59.0", False, "SELECT Id FROM Contact", 2000),
            }
        )
        == 5
    )


def test_repeated_query_same_urls_and_bytes_from_cache(sandbox):
    with _client(sandbox) as c:
        first = _pull(c, SOQL)
        misses = sandbox.api.pages.misses
        second = _pull(c, "SELECT Id, Name, LastModifiedDate\n  FROM Account")
    assert len(first) == 3 and first == second
    assert sandbox.api.pages.misses == misses and sandbox.api.pages.hits >= 3


def test_batch_size_and_query_all_are_separate_entries(sandbox):
    with _client(sandbox) as c:
        small = _pull(c, SOQL, headers={"Sforce-Query-Options": "batchSize=1000"})
        every = _pull(c, SOQL, endpoint="queryAll")
        default = _pull(c, SOQL)
    assert len(small) == 5 and len(default) == 3 and b"/queryAll/" in every[0]
    assert small[0] != default[0] and every[0] != default[0]
    ids = lambda pages: [r["Id"] for p in pages for r in httpx.Response(200, content=p).json()["records"]]  # noqa: E731
    assert ids(small) == ids(default) and len(ids(every)) == RECORDS["Account"]


def test_uncached_pages_are_byte_identical(sandbox):
    with (
        SalesforceSandbox(seed=7, records=RECORDS, now=NOW, page_cache_bytes=0, renderahead=0) as sb,
        _client(sb) as c,
    ):
        pages = _pull(c, SOQL)
        assert _pull(c, SOQL) == pages and len(sb.api.pages) == 0
    with _client(sandbox) as c:
        assert _pull(c, SOQL) == pages


def test_prerender_serves_the_first_pull_from_cache():
    with SalesforceSandbox(
        seed=7,
        records=RECORDS,
        now=NOW,
        prerender=[SOQL, "SELECT COUNT() FROM Account"],
        prerender_version="59.0",
    ) as sb:
        assert sb.wait_prerendered(30)
        assert sb.prerender_stats["pages"] == 4
        misses = sb.api.pages.misses
        with _client(sb) as c:
            assert len(_pull(c, SOQL)) == 3
        assert sb.api.pages.misses == misses


def test_page_cache_lru_budget_and_single_render():
    cache = PageCache(max_bytes=10)
    calls = []

    def render(v: bytes):
        return lambda: calls.append(v) or v

    assert cache.get("a", render(b"aaaa")) == b"aaaa" and cache.get("b", render(b"bbbb")) == b"bbbb"
    assert cache.get("a", render(b"x")) == b"aaaa"  # hit: a is now most recent
    cache.get("c", render(b"cccc"))  # 12 bytes > 10: evicts b
    assert "b" not in cache and "a" in cache and cache.bytes == 8
    cache.get("big", render(b"z" * 11))  # larger than the budget: served, not kept
    assert "big" not in cache and calls == [b"aaaa", b"bbbb", b"cccc", b"z" * 11]

    gate, started = threading.Event(), threading.Event()

    def slow():
        started.set()
        gate.wait(5)
        calls.append(b"slow")
        return b"s"

    out: list[bytes] = []
    threads = [threading.Thread(target=lambda: out.append(cache.get("s", slow))) for _ in range(4)]
    threads[0].start()
    started.wait(5)
    for t in threads[1:]:
        t.start()
    gate.set()
    for t in threads:
        t.join(5)
    assert out == [b"s"] * 4 and calls.count(b"slow") == 1
