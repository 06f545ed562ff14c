"""Load flow and connection files into validated specs, reporting every error of every file at once.

Formats: an AppFlow CreateFlow document (JSON or YAML, as ``aws appflow create-flow --cli-input-json``
takes it or ``aws appflow describe-flow`` prints it: read-only members are ignored), a
CreateConnectorProfile document, or a CloudFormation template with ``AWS::AppFlow::Flow`` /
``AWS::AppFlow::ConnectorProfile`` resources. Errors render ``FILE: field.path: message``.
"""

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from appflow_dagster.spec.botocore_model import (
    PROFILE_READ_ONLY,
    Problem,
    flow_read_only_members,
    validate_document,
)
from appflow_dagster.spec.build import build_flow
from appflow_dagster.spec.connections import build_profile, collect_credentials, looks_like_reference
from appflow_dagster.spec.documents import Kind, Unit, expand_paths, iter_units
from appflow_dagster.spec.model import ConnectorProfile, FlowSpec, SpecError, SpecValidationError
from appflow_dagster.spec.rules import check_flow

PathLike = str | Path


def _clean(doc: Mapping[str, Any], read_only: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in read_only}


def _dedupe(problems: list[Problem]) -> list[Problem]:
    """One message per path: the first wins (rules and secret checks come before the model)."""
    seen: set[str] = set()
    out = []
    for path, msg in problems:
        if path not in seen:
            seen.add(path)
            out.append((path, msg))
    return out


def _pascal_suggestion(message: str) -> str:
    return re.sub(r"did you mean '([a-z])", lambda m: "did you mean '" + m.group(1).upper(), message)


def _errors(unit: Unit, problems: list[Problem]) -> list[SpecError]:
    out = [SpecError(unit.file, p, m) for p, m in unit.problems]
    for path, msg in _dedupe(problems):
        if path in unit.dropped:
            continue
        if unit.is_cfn:
            out.append(SpecError(unit.file, unit.to_file_path(path), _pascal_suggestion(msg)))
        else:
            out.append(SpecError(unit.file, path, msg))
    return out


def _check_flow_unit(unit: Unit) -> tuple[dict[str, Any] | None, list[SpecError]]:
    doc = unit.document
    if not isinstance(doc, Mapping):
        return None, [SpecError(unit.file, "", "the document must be an object")]
    cleaned = _clean(doc, flow_read_only_members())
    problems = check_flow(cleaned) + validate_document(
        cleaned, "CreateFlowRequest", is_reference=looks_like_reference
    )
    errors = _errors(unit, problems)
    return cleaned, errors


def _check_profile_unit(unit: Unit) -> tuple[ConnectorProfile | None, list[SpecError]]:
    doc = unit.document
    if not isinstance(doc, Mapping):
        return None, [SpecError(unit.file, "", "the document must be an object")]
    cleaned = _clean(doc, PROFILE_READ_ONLY)
    refs, secret_problems = collect_credentials(cleaned)
    problems = secret_problems + validate_document(
        cleaned, "CreateConnectorProfileRequest", is_reference=looks_like_reference
    )
    errors = _errors(unit, problems)
    if errors:
        return None, errors
    return build_profile(cleaned, refs, unit.file), []


def _collect(paths: Sequence[PathLike], want: Kind | None) -> tuple[list[Unit], list[SpecError]]:
    units: list[Unit] = []
    errors: list[SpecError] = []
    for result in iter_units(paths, want):
        errors.extend(SpecError(result.file, p, m) for p, m in result.problems)
        units.extend(result.units)
    return units, errors


def _check_units(units: list[Unit]) -> tuple[list[FlowSpec], list[ConnectorProfile], list[SpecError]]:
    flows: list[FlowSpec] = []
    profiles: list[ConnectorProfile] = []
    errors: list[SpecError] = []
    flow_seen: dict[str, Unit] = {}
    profile_seen: dict[str, Unit] = {}
    for unit in units:
        if unit.kind == "flow":
            cleaned, unit_errors = _check_flow_unit(unit)
            name = cleaned.get("flowName") if cleaned else None
        else:
            profile, unit_errors = _check_profile_unit(unit)
            doc = unit.document if isinstance(unit.document, Mapping) else {}
            name = doc.get("connectorProfileName")
        errors.extend(unit_errors)
        seen, field, what = (
            (flow_seen, "flowName", "flow name")
            if unit.kind == "flow"
            else (profile_seen, "connectorProfileName", "connector profile name")
        )
        if isinstance(name, str):
            if name in seen:
                errors.append(
                    SpecError(
                        unit.file,
                        unit.to_file_path(field),
                        f"duplicate {what} '{name}' (also defined in {seen[name].file})",
                    )
                )
                continue
            seen[name] = unit
        if unit_errors:
            continue
        if unit.kind == "flow" and cleaned is not None:
            flows.append(build_flow(cleaned, unit.file))
        elif unit.kind == "profile" and profile is not None:
            profiles.append(profile)
    return flows, profiles, errors


def _load(
    paths: Sequence[PathLike], want: Kind | None
) -> tuple[list[FlowSpec], list[ConnectorProfile], list[SpecError]]:
    units, errors = _collect(paths, want)
    flows, profiles, unit_errors = _check_units(units)
    # Report file by file, in the order the files were read (sort is stable within a file).
    order = {label: i for i, (label, _) in enumerate(expand_paths(paths))}
    errors = sorted(errors + unit_errors, key=lambda e: order.get(e.file, len(order)))
    return flows, profiles, errors


def load_flows(paths: Sequence[PathLike]) -> list[FlowSpec]:
    """Validated flows of ``paths`` (files, or folders of ``*.json``/``*.yaml``/``*.yml``).

    Raises:
        SpecValidationError: with every error of every file.
    """
    flows, _, errors = _load(paths, "flow")
    if errors:
        raise SpecValidationError(errors)
    return flows


def load_connections(paths: Sequence[PathLike]) -> list[ConnectorProfile]:
    """Validated connection profiles of ``paths``; credentials are references, never values.

    Raises:
        SpecValidationError: with every error of every file.
    """
    _, profiles, errors = _load(paths, "profile")
    if errors:
        raise SpecValidationError(errors)
    return profiles


def validate_paths(paths: Sequence[PathLike]) -> list[SpecError]:
    """Every error of the flow and connection files in ``paths``, without raising (for the CLI)."""
    return _load(paths, None)[2]


def load_all(paths: Sequence[PathLike]) -> tuple[list[FlowSpec], list[ConnectorProfile], list[SpecError]]:
    """The valid flows and profiles of ``paths`` and every error, without raising."""
    return _load(paths, None)
