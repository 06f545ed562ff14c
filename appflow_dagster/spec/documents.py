"""Reading flow and connection files: JSON or YAML, plain API documents or CloudFormation templates.

A file yields :class:`Unit` s: one per API document (a CreateFlow / describe-flow document, a
CreateConnectorProfile document, or each AppFlow resource of a CloudFormation template).
"""

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from appflow_dagster.spec.botocore_model import Problem
from appflow_dagster.spec.cloudformation import FLOW_TYPE, PROFILE_TYPE, translate

SUFFIXES = (".json", ".yaml", ".yml")
Kind = Literal["flow", "profile"]


class CfnSafeLoader(yaml.SafeLoader):
    """A SafeLoader that reads CloudFormation short-form tags (``!Ref X`` → ``{"Ref": "X"}``)."""


def _cfn_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    name = suffix if suffix in ("Ref", "Condition") else f"Fn::{suffix}"
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


CfnSafeLoader.add_multi_constructor("!", _cfn_tag)


@dataclass
class Unit:
    """One API document read from ``file``; ``to_file_path`` maps an API field path to the file's path."""

    file: str
    kind: Kind
    document: Any
    to_file_path: Callable[[str], str] = lambda p: p
    problems: list[Problem] = field(default_factory=list)
    dropped: set[str] = field(default_factory=set)
    is_cfn: bool = False


@dataclass
class FileResult:
    file: str
    units: list[Unit] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def expand_paths(paths: Sequence[str | Path]) -> list[tuple[str, Path]]:
    """Files as given, and ``*.json``/``*.yaml``/``*.yml`` of folders (sorted). Labels keep the user's spelling."""
    out: list[tuple[str, Path]] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            for child in sorted(c for c in path.iterdir() if c.is_file() and c.suffix.lower() in SUFFIXES):
                out.append((str(Path(str(p)) / child.name), child))
        else:
            out.append((str(p), path))
    return out


def parse_text(label: str, text: str) -> tuple[Any, list[Problem]]:
    """Parse JSON (``.json``) or YAML (anything else; YAML also reads JSON)."""
    if label.lower().endswith(".json"):
        try:
            return json.loads(text), []
        except json.JSONDecodeError as e:
            return None, [("", f"invalid JSON at line {e.lineno} column {e.colno}: {e.msg}")]
    try:
        return yaml.load(text, Loader=CfnSafeLoader), []  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        return None, [("", f"invalid YAML{where}: {problem}")]


def _kind_of(doc: Mapping[str, Any]) -> Kind | None:
    if "flowName" in doc or "sourceFlowConfig" in doc or "tasks" in doc or "triggerConfig" in doc:
        return "flow"
    if "connectorProfileName" in doc or "connectorProfileConfig" in doc:
        return "profile"
    return None


def read_file(label: str, path: Path, want: Kind | None) -> FileResult:
    """Read one file into units of kind ``want`` (None: both); documents of the other kind are skipped."""
    result = FileResult(label)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        result.problems.append(("", "file not found"))
        return result
    except (OSError, UnicodeDecodeError) as e:
        result.problems.append(("", f"cannot read file: {e.__class__.__name__}"))
        return result
    data, problems = parse_text(label, text)
    result.problems.extend(problems)
    if problems:
        return result
    if isinstance(data, Mapping) and "Resources" in data:
        _read_template(result, data, want)
        return result
    if not isinstance(data, Mapping):
        result.problems.append(("", "the document must be an object"))
        return result
    kind = _kind_of(data)
    if kind is None:
        result.problems.append(("", f"not {_what(want)}"))
    elif want is None or kind == want:
        result.units.append(Unit(label, kind, data))
    return result


def _what(kind: Kind | None) -> str:
    if kind is None:
        return "an AppFlow flow or connector profile document (no flowName or connectorProfileName)"
    return (
        "a flow document (no flowName)"
        if kind == "flow"
        else "a connector profile document (no connectorProfileName)"
    )


def _read_template(result: FileResult, data: Mapping[str, Any], want: Kind | None) -> None:
    resources = data["Resources"]
    if not isinstance(resources, Mapping):
        result.problems.append(("Resources", "must be an object"))
        return
    found = False
    for name, res in resources.items():
        if not isinstance(res, Mapping):
            continue
        rtype = res.get("Type")
        if rtype not in (FLOW_TYPE, PROFILE_TYPE):
            continue
        found = True
        kind: Kind = "flow" if rtype == FLOW_TYPE else "profile"
        if want is not None and kind != want:
            continue
        base = f"Resources.{name}.Properties"
        props = res.get("Properties")
        if not isinstance(props, Mapping):
            result.problems.append((base, "is required" if props is None else "must be an object"))
            continue
        shape = "CreateFlowRequest" if kind == "flow" else "CreateConnectorProfileRequest"
        t = translate(props, shape, base)
        result.units.append(
            Unit(result.file, kind, t.document, t.cfn_path, list(t.problems), set(t.dropped), is_cfn=True)
        )
    if not found:
        result.problems.append(("Resources", f"no {FLOW_TYPE} or {PROFILE_TYPE} resource"))


def iter_units(paths: Sequence[str | Path], want: Kind | None) -> Iterator[FileResult]:
    for label, path in expand_paths(paths):
        yield read_file(label, path, want)
