"""Rendered query pages kept in memory: an LRU bounded by bytes, rendering each page once.

A page is the full JSON body of one ``query``/``queryAll`` response. Keys are plain tuples built by
the API layer (query locator, API version, endpoint, page offset). Concurrent requests for a page
that is being rendered (by a client, the read-ahead worker or the pre-render thread) wait for that
render instead of repeating it.
"""

import queue
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

DEFAULT_PAGE_CACHE_BYTES = 2 << 30


class PageCache:
    """Page bodies by key, least recently used evicted first once ``max_bytes`` is exceeded."""

    def __init__(self, max_bytes: int = DEFAULT_PAGE_CACHE_BYTES):
        self.max_bytes = max(0, int(max_bytes))
        self.bytes = 0
        self.hits = self.misses = 0
        self._pages: OrderedDict[Hashable, bytes] = OrderedDict()
        self._pending: dict[Hashable, threading.Event] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._pages)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._pages or key in self._pending

    def get(self, key: Hashable, render: Callable[[], bytes]) -> bytes:
        """The cached page, else ``render()`` once (other callers for the same key wait) and keep it."""
        while True:
            with self._lock:
                body = self._pages.get(key)
                if body is not None:
                    self._pages.move_to_end(key)
                    self.hits += 1
                    return body
                event = self._pending.get(key)
                owner = event is None
                if owner:
                    event = self._pending[key] = threading.Event()
                    self.misses += 1
            assert event is not None
            if not owner:
                event.wait()
                continue  # cached now (or evicted / too big / failed: then this caller renders)
            try:
                body = render()
                self._put(key, body)
                return body
            finally:
                with self._lock:
                    del self._pending[key]
                event.set()

    def _put(self, key: Hashable, body: bytes) -> None:
        if len(body) > self.max_bytes:
            return
        with self._lock:
            old = self._pages.pop(key, None)
            self.bytes -= len(old) if old is not None else 0
            self._pages[key] = body
            self.bytes += len(body)
            while self.bytes > self.max_bytes:
                _, dropped = self._pages.popitem(last=False)
                self.bytes -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self.bytes = 0

    def stats(self) -> dict[str, int]:
        return {
            "pages": len(self._pages),
            "bytes": self.bytes,
            "max_bytes": self.max_bytes,
            "hits": self.hits,
            "misses": self.misses,
        }


class Renderahead:
    """One daemon thread rendering pages a sequential reader will ask for next (bounded queue, drops when full)."""

    def __init__(self, cache: PageCache, depth: int = 64):
        self.cache = cache
        self._queue: queue.Queue[tuple[Hashable, Callable[[], bytes]] | None] = queue.Queue(depth)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, key: Hashable, render: Callable[[], bytes]) -> None:
        if key in self.cache:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="salesforce-sandbox-renderahead", daemon=True
                )
                self._thread.start()
        try:
            self._queue.put_nowait((key, render))
        except queue.Full:
            pass

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            key, render = item
            if key not in self.cache:
                try:
                    self.cache.get(key, render)
                except Exception:  # noqa: S110 - the request path renders (and reports) it again
                    pass

    def stop(self) -> None:
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            while True:  # make room for the stop marker
                try:
                    self._queue.put_nowait(None)
                    break
                except queue.Full:
                    try:
                        self._queue.get_nowait()
                    except queue.Empty:
                        pass
            thread.join(timeout=5)
