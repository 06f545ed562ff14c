"""The project's own wiring: one module named by workspace.yaml and [tool.dagster]."""

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_workspace_and_pyproject_name_the_same_module() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    workspace = yaml.safe_load((ROOT / "workspace.yaml").read_text())
    module = pyproject["tool"]["dagster"]["module_name"]
    assert [e["python_module"]["module_name"] for e in workspace["load_from"]] == [module]


def test_readme_quickstart_has_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    quickstart = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    commands = [line.strip() for line in quickstart.splitlines() if line.strip().startswith("make ")]
    assert commands == ["make demo", "make test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci


def test_no_lockfile_records_a_registry() -> None:
    assert not (ROOT / "uv.lock").exists()
    assert "://" not in (ROOT / "constraints.txt").read_text()
