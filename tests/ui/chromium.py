"""Headless Chromium driven over the DevTools protocol (websocket-client; no Selenium needed)."""

import base64
import itertools
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import websocket

from .processes import stop_process_tree

#: Flags for a quiet, reproducible headless browser: no sandbox (containers run as root), no GPU,
#: no background traffic to Google, no first-run UI.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-quic",
    "--hide-scrollbars",
    "--mute-audio",
]


def chromium_binary() -> str | None:
    """The Chromium on PATH (Debian's ``chromium``, or the usual other names), else None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


class Chromium:
    """One headless Chromium with one page, controlled through CDP.

    Use as a context manager; the browser's process group is stopped on exit.
    """

    def __init__(self, binary: str, log_path: Path, width: int = 1440, height: int = 1000) -> None:
        self.binary = binary
        self.log_path = log_path
        self.width, self.height = width, height
        self.profile = Path(tempfile.mkdtemp(prefix="appflow-ui-chromium-"))
        self._ids = itertools.count(1)
        self._proc: subprocess.Popen[bytes] | None = None
        self._ws: websocket.WebSocket | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    def __enter__(self) -> "Chromium":
        log = self.log_path.open("wb")
        self._proc = subprocess.Popen(
            [
                self.binary,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={self.profile}",
                f"--window-size={self.width},{self.height}",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                "about:blank",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        try:
            self._ws = websocket.create_connection(self._page_ws_url(), timeout=30, suppress_origin=True)
            self.send("Page.enable")
            self.send("Runtime.enable")
            self.send(
                "Emulation.setDeviceMetricsOverride",
                {"width": self.width, "height": self.height, "deviceScaleFactor": 1, "mobile": False},
            )
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._ws is not None:
            try:
                self.send("Browser.close", timeout=5)
            except Exception:  # the browser may already be gone; stopping its process group is the backstop
                pass
            self._ws.close()
            self._ws = None
        if self._proc is not None:
            stop_process_tree(self._proc, timeout=10)
            self._proc = None
        shutil.rmtree(self.profile, ignore_errors=True)

    def _page_ws_url(self, timeout: float = 30) -> str:
        """Chromium writes its chosen debugging port to DevToolsActivePort in the profile."""
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise RuntimeError(f"chromium exited with {self._proc.returncode}: {self._log_tail()}")
            if port_file.exists() and port_file.read_text().strip():
                port = int(port_file.read_text().split()[0])
                try:
                    targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=2).json()
                except httpx.HTTPError:
                    targets = []
                pages = [t for t in targets if t.get("type") == "page"]
                if pages:
                    return str(pages[0]["webSocketDebuggerUrl"])
            time.sleep(0.1)
        raise RuntimeError(f"chromium did not open its DevTools port: {self._log_tail()}")

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:]
        except OSError:
            return ""

    # -- protocol --------------------------------------------------------------------------------

    def send(self, method: str, params: dict[str, Any] | None = None, timeout: float = 30) -> dict[str, Any]:
        """Send one CDP command and return its result (events that arrive meanwhile are dropped)."""
        assert self._ws is not None, "browser not started"
        msg_id = next(self._ids)
        self._ws.send(json.dumps({"id": msg_id, "method": method, "params": params or {}}))
        deadline = time.monotonic() + timeout
        while True:
            self._ws.settimeout(max(0.1, deadline - time.monotonic()))
            reply = json.loads(self._ws.recv())
            if reply.get("id") != msg_id:
                continue
            if "error" in reply:
                raise RuntimeError(f"CDP {method}: {reply['error']}")
            return dict(reply.get("result", {}))

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"JS error in {expression!r}: {result['exceptionDetails']}")
        return result["result"].get("value")

    # -- what tests use --------------------------------------------------------------------------

    def open(self, url: str, timeout: float = 30) -> None:
        """Navigate and return once the new document has replaced the old one (so no later read
        can see the previous page's text)."""
        self.evaluate("window.__appflowPreviousPage = true")
        result = self.send("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise RuntimeError(f"navigating to {url}: {result['errorText']}")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.evaluate(
                    "window.__appflowPreviousPage !== true && document.readyState !== 'loading'"
                ):
                    return
            except RuntimeError:
                pass  # the old document's context went away mid-call: the new one is coming
            time.sleep(0.05)
        raise AssertionError(f"{url} did not load within {timeout:.0f}s")

    def text(self) -> str:
        """The rendered text of the page, as a user reads it."""
        return str(self.evaluate("document.body ? document.body.innerText : ''") or "")

    def html(self) -> str:
        return str(self.evaluate("document.documentElement ? document.documentElement.outerHTML : ''") or "")

    def wait_for_text(
        self, *needles: str, gone: tuple[str, ...] = (), timeout: float = 30, screenshot: Path | None = None
    ) -> str:
        """Poll until every needle is in the page's text and none of ``gone`` is (the React app renders
        asynchronously: spinners and "Loading..." come first).

        On timeout, save a screenshot (if a path is given) and fail with what the page did show.
        """
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.text()
            if all(n in text for n in needles) and not any(g in text for g in gone):
                return text
            time.sleep(0.25)
        if screenshot is not None:
            self.screenshot(screenshot)
        missing = [n for n in needles if n not in text]
        still = [g for g in gone if g in text]
        raise AssertionError(
            f"page {self.evaluate('location.href')} still missing {missing}, still showing {still} "
            f"after {timeout:.0f}s"
            + (f" (screenshot: {screenshot})" if screenshot else "")
            + f"; it shows:\n{text[:3000]}"
        )

    def screenshot(self, path: Path) -> Path:
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        path.write_bytes(base64.b64decode(data))
        return path
