"""Start ``scripts/demo.sh`` the way a user does, on free ports and in a temp folder."""

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from .dagster_api import DagsterAPI
from .processes import free_ports, stop_process_tree

ROOT = Path(__file__).resolve().parents[2]
#: What the demo's public sandbox client uses as its secret: it must never reach a page or a log.
SANDBOX_SECRET = "appflow-sandbox-secret"
#: Fewer records than the interactive demo's 20,000 keep the run short; the UI shows the same.
SANDBOX_RECORDS = "2000"
STARTUP_TIMEOUT = 120


@dataclass
class RunningDemo:
    url: str
    api: DagsterAPI
    root: Path
    dagster_home: Path
    data: Path
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def _wait_for_webserver(url: str, proc: "subprocess.Popen[bytes]", log: Path) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"scripts/demo.sh exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{url}/server_info", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"no webserver at {url} after {STARTUP_TIMEOUT}s:\n{log.read_text()[-4000:]}")


@contextmanager
def running_demo(root: Path) -> Iterator[RunningDemo]:
    """``bash scripts/demo.sh`` with its flows, connections, files and Dagster instance under
    ``root`` and its two servers on free ports; stopped by process group on exit."""

    shutil.copytree(ROOT / "flows", root / "flows")
    shutil.copytree(ROOT / "connections", root / "connections")
    ui_port, sandbox_port = free_ports(2)
    env = {
        k: v
        for k, v in os.environ.items()
        # Nothing from the developer's shell may route the demo elsewhere.
        if not k.startswith(("APPFLOW_", "DAGSTER_", "AWS_"))
    }
    env.update(
        APPFLOW_UI_PORT=str(ui_port),
        APPFLOW_SANDBOX_PORT=str(sandbox_port),
        APPFLOW_SANDBOX_RECORDS=SANDBOX_RECORDS,
        APPFLOW_LOCAL_ROOT=str(root / "data"),
        APPFLOW_FLOWS_DIR=str(root / "flows"),
        APPFLOW_CONNECTIONS_DIR=str(root / "connections"),
        DAGSTER_HOME=str(root / "dagster_home"),
    )
    log = root / "demo.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["bash", str(ROOT / "scripts" / "demo.sh")],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{ui_port}"
    api = DagsterAPI(url)
    try:
        _wait_for_webserver(url, proc, log)
        yield RunningDemo(
            url=url, api=api, root=root, dagster_home=root / "dagster_home", data=root / "data", log=log
        )
    finally:
        api.close()
        stop_process_tree(proc, timeout=30)
