"""Fixtures: the demo started as a user starts it, and a headless Chromium to look at it."""

from collections.abc import Iterator

import pytest

from .chromium import Chromium, chromium_binary
from .demo_server import RunningDemo, running_demo


@pytest.fixture(scope="package")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDemo]:
    with running_demo(tmp_path_factory.mktemp("demo")) as running:
        yield running


@pytest.fixture(scope="package")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chromium]:
    binary = chromium_binary()
    if binary is None:
        pytest.skip("chromium is not on PATH (scripts/system_deps.sh installs Debian's chromium)")
    with Chromium(binary, tmp_path_factory.mktemp("chromium") / "chromium.log") as chromium:
        yield chromium
