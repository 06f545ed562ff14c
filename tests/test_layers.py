"""Dependencies point one way (DESIGN.md "Layers"): only the Dagster glue imports dagster, and the
pure spec layer imports nothing from the layers built on it."""

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "appflow_dagster"
NO_DAGSTER = ["spec", "connectors", "engine", "destinations", "sandbox"]
FORBIDDEN_IN_SPEC = (
    "appflow_dagster.connectors",
    "appflow_dagster.engine",
    "appflow_dagster.destinations",
    "appflow_dagster.dagster_defs",
    "appflow_dagster.sandbox",
    "httpx",
    "boto3",
)


def imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def modules(layer: str) -> list[Path]:
    return sorted((PKG / layer).rglob("*.py"))


@pytest.mark.parametrize("layer", NO_DAGSTER)
def test_layer_does_not_import_dagster(layer: str) -> None:
    offenders = {
        str(p.relative_to(PKG)): sorted(
            n for n in imports(p) if n.split(".")[0] in ("dagster", "dagster_aws")
        )
        for p in modules(layer)
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_spec_layer_is_pure() -> None:
    offenders = {
        str(p.relative_to(PKG)): sorted(n for n in imports(p) if n.startswith(FORBIDDEN_IN_SPEC))
        for p in modules("spec")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_no_private_dagster_imports_anywhere() -> None:
    offenders = [str(p) for p in PKG.rglob("*.py") if any(n.startswith("dagster._") for n in imports(p))]
    assert offenders == []
