"""Validate AppFlow documents against the AppFlow service model that ships with botocore.

The model (``appflow`` ``2020-08-23``) is the authoritative schema of CreateFlow and
CreateConnectorProfile requests. Errors carry a field path (``tasks[3].taskProperties.MASK_LENGTH``)
and a message a user can act on; they never repeat the offending value, so a secret pasted into the
wrong place is not echoed.
"""

import difflib
import re
from collections.abc import Callable, Mapping
from datetime import date, datetime
from functools import cache
from typing import Any

import botocore.loaders

#: Members ``aws appflow describe-flow`` prints that a CreateFlow request does not take.
EXTRA_READ_ONLY = frozenset({"ResponseMetadata"})
#: ``describe-connector-profiles`` members that are not part of CreateConnectorProfile.
PROFILE_READ_ONLY = frozenset(
    {
        "connectorProfileArn",
        "credentialsArn",
        "createdAt",
        "lastUpdatedAt",
        "privateConnectionProvisioningState",
        "ResponseMetadata",
    }
)

Problem = tuple[str, str]  # (field path, message)


@cache
def service_model() -> Mapping[str, Any]:
    """The raw appflow service model (loaded once)."""
    return botocore.loaders.Loader().load_service_model("appflow", "service-2")


def shapes() -> Mapping[str, Any]:
    return service_model()["shapes"]


@cache
def flow_read_only_members() -> frozenset[str]:
    """DescribeFlowResponse members that CreateFlowRequest does not have (flowArn, flowStatus, ...)."""
    s = shapes()
    return (
        frozenset(s["DescribeFlowResponse"]["members"]) - frozenset(s["CreateFlowRequest"]["members"])
        | EXTRA_READ_ONLY
    )


# Java surrogate-pair ranges (UTF-16) mean the supplementary planes in Python's code-point regexes.
_JAVA_SURROGATES = "\\uD800\\uDC00-\\uDBFF\\uDFFF"


@cache
def compiled_pattern(pattern: str) -> re.Pattern[str] | None:
    """Compile a model pattern for whole-string matching; None when Python cannot compile it."""
    text = pattern.replace(_JAVA_SURROGATES, "\\U00010000-\\U0010FFFF")
    try:
        # Java's \w, \s, \d are ASCII unless UNICODE_CHARACTER_CLASS is set.
        return re.compile(text, re.ASCII)
    except re.error:
        return None


def path_join(base: str, member: str) -> str:
    return f"{base}.{member}" if base else member


def _suggest(name: str, candidates: list[str]) -> str:
    by_lower = {c.lower(): c for c in candidates}
    if name.lower() in by_lower:
        return f" (did you mean '{by_lower[name.lower()]}'?)"
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.6)
    return f" (did you mean '{by_lower[close[0]]}'?)" if close else ""


class ModelValidator:
    """Walks a document against a shape. ``is_reference`` strings skip pattern and length checks."""

    def __init__(self, is_reference: Callable[[str], bool] = lambda s: False):
        self.is_reference = is_reference
        self.problems: list[Problem] = []

    def add(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    def validate(
        self, value: Any, shape_name: str, path: str = "", ignore: frozenset[str] = frozenset()
    ) -> None:
        shape = shapes()[shape_name]
        kind = shape["type"]
        handler = getattr(self, f"_{kind}", None)
        if handler is None:  # blob, float and other types the appflow documents do not use
            return
        if kind == "structure":
            self._structure(value, shape, path, ignore)
        else:
            handler(value, shape, path)

    def _structure(self, value: Any, shape: Mapping[str, Any], path: str, ignore: frozenset[str]) -> None:
        if not isinstance(value, Mapping):
            self.add(path, "must be an object")
            return
        members: Mapping[str, Any] = shape["members"]
        for req in shape.get("required", []):
            if value.get(req) is None:
                self.add(path_join(path, req), "is required")
        for key, v in value.items():
            if key in members:
                if v is not None:
                    self.validate(v, members[key]["shape"], path_join(path, str(key)))
            elif key not in ignore:
                self.add(path_join(path, str(key)), "unknown field" + _suggest(str(key), list(members)))

    def _list(self, value: Any, shape: Mapping[str, Any], path: str) -> None:
        if not isinstance(value, list):
            self.add(path, "must be a list")
            return
        self._size(len(value), shape, path, "item")
        for i, item in enumerate(value):
            self.validate(item, shape["member"]["shape"], f"{path}[{i}]")

    def _map(self, value: Any, shape: Mapping[str, Any], path: str) -> None:
        if not isinstance(value, Mapping):
            self.add(path, "must be an object (a map of keys to values)")
            return
        self._size(len(value), shape, path, "entry")
        key_shape = shapes()[shape["key"]["shape"]]
        for k, v in value.items():
            p = path_join(path, str(k))
            if not isinstance(k, str):
                self.add(p, "key must be a string")
            elif "enum" in key_shape and k not in key_shape["enum"]:
                hint = _suggest(k, key_shape["enum"])
                self.add(
                    p,
                    "unknown key" + hint
                    if hint
                    else "unknown key; must be one of: " + ", ".join(key_shape["enum"]),
                )
            else:
                self._string(k, key_shape, p, is_key=True)
            self.validate(v, shape["value"]["shape"], p)

    def _size(self, n: int, shape: Mapping[str, Any], path: str, noun: str) -> None:
        if "min" in shape and n < shape["min"]:
            self.add(path, f"must have at least {shape['min']} {noun}{'s' if shape['min'] != 1 else ''}")
        if "max" in shape and n > shape["max"]:
            self.add(path, f"must have at most {shape['max']} {noun}{'s' if shape['max'] != 1 else ''}")

    def _string(self, value: Any, shape: Mapping[str, Any], path: str, is_key: bool = False) -> None:
        if not isinstance(value, str):
            self.add(path, "must be a string")
            return
        if "enum" in shape:
            if value not in shape["enum"]:
                self.add(path, "must be one of: " + ", ".join(shape["enum"]))
            return
        if self.is_reference(value):
            return
        what = "key" if is_key else "value"
        if "min" in shape and len(value) < shape["min"]:
            self.add(path, f"{what} must be at least {shape['min']} characters")
        if "max" in shape and len(value) > shape["max"]:
            self.add(path, f"{what} must be at most {shape['max']} characters")
        if "pattern" in shape:
            rx = compiled_pattern(shape["pattern"])
            if rx is not None and rx.fullmatch(value) is None:
                self.add(path, f"{what} must match pattern {shape['pattern']}")

    def _boolean(self, value: Any, shape: Mapping[str, Any], path: str) -> None:
        if not isinstance(value, bool):
            self.add(path, "must be true or false")

    def _number(self, value: Any, shape: Mapping[str, Any], path: str, integral: bool) -> None:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if integral:
            ok = ok and (isinstance(value, int) or float(value).is_integer())
        if not ok:
            self.add(path, "must be an integer" if integral else "must be a number")
            return
        lo, hi = shape.get("min"), shape.get("max")
        if lo is not None and hi is not None and not lo <= value <= hi:
            self.add(path, f"must be between {lo} and {hi}")
        elif lo is not None and value < lo:
            self.add(path, f"must be ≥ {lo}")
        elif hi is not None and value > hi:
            self.add(path, f"must be ≤ {hi}")

    def _integer(self, value: Any, shape: Mapping[str, Any], path: str) -> None:
        self._number(value, shape, path, integral=True)

    def _long(self, value: Any, shape: Mapping[str, Any], path: str) -> None:
        self._number(value, shape, path, integral=True)

    def _double(self, value: Any, shape: Mapping[str, Any], path: str) -> None:
        self._number(value, shape, path, integral=False)

    def _timestamp(self, value: Any, shape: Mapping[str, Any], path: str) -> None:
        if parse_timestamp(value) is None:
            self.add(path, "must be a timestamp (ISO 8601 string or epoch seconds)")


def parse_timestamp(value: Any) -> datetime | None:
    """ISO 8601 strings, epoch seconds (int/float/numeric string) and YAML datetimes → aware datetime."""
    from datetime import UTC

    if isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(float(value), tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        text = value.strip()
        try:
            return datetime.fromtimestamp(float(text), tz=UTC)
        except ValueError:
            pass
        except (OverflowError, OSError):
            return None
        try:
            dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
        return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
    return None


def validate_document(
    document: Any,
    request_shape: str,
    ignore_top_level: frozenset[str] = frozenset(),
    is_reference: Callable[[str], bool] = lambda s: False,
) -> list[Problem]:
    """Every problem of ``document`` against ``request_shape`` (e.g. ``CreateFlowRequest``)."""
    v = ModelValidator(is_reference)
    if not isinstance(document, Mapping):
        return [("", "the document must be an object")]
    v.validate(document, request_shape, "", ignore_top_level)
    return v.problems
