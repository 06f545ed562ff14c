"""What every benchmark client shares: the sandbox in its own process, the token, the query, timing.

Standard library and httpx only, so the dlt client (run with the dlt virtualenv's Python) can
import it too. Each client runs in a child process of its own; the parent reads that child's
peak RSS from ``os.wait4`` once it exits, so one client's memory never counts against another.
"""

import json
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from urllib.request import Request, urlopen

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
#: Scratch space (git-ignored); ``APPFLOW_BENCH_WORK`` moves it (e.g. a test's temporary folder).
WORK = Path(os.environ.get("APPFLOW_BENCH_WORK") or BENCH / ".work")
CLIENT_ID = "appflow-sandbox"
CLIENT_SECRET = "appflow-sandbox-secret"
REFRESH_TOKEN = "appflow-sandbox-refresh"
OBJECT = "Account"


@dataclass
class Result:
    """One measured run of one client (what a child prints as its last stdout line, as JSON)."""

    client: str
    records: int
    seconds: float
    peak_rss_mb: float | None = None
    bytes_written: int | None = None
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "records_per_s": round(self.rate, 1)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, token: str | None = None, timeout: float = 30.0) -> Any:
    req = Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urlopen(req, timeout=timeout) as resp:  # noqa: S310 - 127.0.0.1 only
        return json.loads(resp.read())


class Sandbox:
    """The Salesforce sandbox served by a separate Python process (so it never shares the client's GIL)."""

    def __init__(self, records: int, seed: int = 7, python: str | None = None):
        self.records = records
        self.seed = seed
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.python = python or str(ROOT / ".venv" / "bin" / "python")
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "Sandbox":
        cmd = [self.python, "-m", "appflow_dagster.sandbox.salesforce", "--host", "127.0.0.1"]
        cmd += ["--port", str(self.port), "--seed", str(self.seed), "--records", str(self.records)]
        WORK.mkdir(parents=True, exist_ok=True)
        log = open(WORK / "sandbox.log", "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sandbox exited with {self.proc.returncode}; see {WORK / 'sandbox.log'}")
            try:
                _get(self.url + "/services/data/", timeout=2)
                return self
            except OSError:
                time.sleep(0.1)
        self.__exit__()
        raise RuntimeError("sandbox did not answer within 60 s")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def api_version(url: str) -> str:
    """The newest REST API version the instance lists (``GET /services/data/``), e.g. ``v62.0``."""
    versions = _get(url + "/services/data/")
    best = max(versions, key=lambda v: float(v["version"]))
    return "v" + str(best["version"])


def access_token(url: str) -> str:
    """A bearer token from the refresh-token grant with the sandbox's public demo client."""
    body = urlencode(
        {
            "grant_type": "refresh_token",
            "refresh_token": REFRESH_TOKEN,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }
    ).encode()
    req = Request(url + "/services/oauth2/token", data=body, method="POST")
    req.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urlopen(req, timeout=30) as resp:  # noqa: S310 - 127.0.0.1 only
        return str(json.loads(resp.read())["access_token"])


def soql_all_fields(url: str, version: str, token: str, obj: str = OBJECT) -> str:
    """``SELECT <every field> FROM obj``: the query a Map_all flow sends (fields from describe)."""
    desc = _get(f"{url}/services/data/{version}/sobjects/{obj}/describe", token)
    names = [f["name"] for f in desc["fields"]]
    return f"SELECT {', '.join(names)} FROM {obj}"


def _rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


class RssSampler:
    """Polls a child's RSS from ``/proc`` every ``interval`` seconds: does memory plateau or creep?"""

    def __init__(self, pid: int, interval: float = 1.0):
        self.pid, self.interval = pid, interval
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        t0 = time.monotonic()
        while not self._stop.wait(self.interval):
            rss = _rss_mb(self.pid)
            if rss is not None:
                self.samples.append((round(time.monotonic() - t0, 1), round(rss, 1)))

    def stop(self, points: int = 11) -> list[tuple[float, float]]:
        """About ``points`` samples spread over the run (first, evenly spaced, last)."""
        self._stop.set()
        self._thread.join()
        s = self.samples
        if len(s) <= points:
            return s
        return [s[round(i * (len(s) - 1) / (points - 1))] for i in range(points)]


def run_child(cmd: list[str], *, env: dict[str, str] | None = None, sample_rss: bool = False) -> Result:
    """Run a client in a child process; its last stdout line is its :class:`Result` as JSON.

    Peak RSS comes from ``wait4`` on that child alone (``ru_maxrss``, KiB on Linux);
    ``sample_rss`` also records an RSS timeline (``extra["rss_timeline"]``: seconds, MB).
    """
    err_path = WORK / "child-stderr.log"
    with open(err_path, "ab") as err_file:
        err_file.write(f"\n$ {' '.join(cmd)}\n".encode())
        err_file.flush()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=err_file)
    assert proc.stdout is not None
    sampler = RssSampler(proc.pid) if sample_rss else None
    # Children print one JSON line on stdout (logs go to the stderr file), so reading to EOF first
    # cannot deadlock; then reap the child ourselves to get its own rusage.
    out = proc.stdout.read()
    proc.stdout.close()
    timeline = sampler.stop() if sampler else None
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    lines = [ln for ln in out.decode().splitlines() if ln.strip()]
    if proc.returncode != 0 or not lines:
        tail = err_path.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{cmd[1:3]} failed with exit {proc.returncode}:\n{tail}")
    data = json.loads(lines[-1])
    res = Result(**data)
    res.peak_rss_mb = round(usage.ru_maxrss / 1024, 1)
    if timeline:
        res.extra["rss_timeline"] = timeline
    return res


def emit(result: Result) -> None:
    """A child's last act: its result as one JSON line on stdout."""
    data = asdict(result)
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()
