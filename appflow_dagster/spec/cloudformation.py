"""CloudFormation ``AWS::AppFlow::Flow`` / ``AWS::AppFlow::ConnectorProfile`` → AppFlow API documents.

The translation is guided by the botocore shapes: each PascalCase property is matched to the
shape's member case-insensitively (so ``S3OutputFormatConfig`` → ``s3OutputFormatConfig``,
``KMSArn`` → ``kmsArn``, ``TimeZone`` → ``timezone``, and connector keys such as ``Salesforce``/``S3``
stay as they are). CloudFormation's own spellings are handled explicitly: ``TaskProperties`` and
``Tags`` are ``Key``/``Value`` lists (→ maps), ``TriggerConfig.TriggerProperties`` is the flat
``ScheduledTriggerProperties`` (→ ``triggerProperties.Scheduled``), ``ConnectorOAuthRequest`` is the
API's ``oAuthRequest``. Errors are reported on the template path, e.g.
``Resources.MyFlow.Properties.Tasks[0].TaskProperties[1]``.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from appflow_dagster.spec.botocore_model import Problem, path_join, shapes

FLOW_TYPE = "AWS::AppFlow::Flow"
PROFILE_TYPE = "AWS::AppFlow::ConnectorProfile"

#: CloudFormation property names that differ from the API beyond letter case.
_ALIASES = {"connectoroauthrequest": "oAuthRequest"}
#: CloudFormation-only properties with no API member (``FlowStatus``: Active / Suspended / Draft).
_CFN_ONLY = {"CreateFlowRequest": {"FlowStatus"}}


def is_intrinsic(value: Any) -> bool:
    """``{"Ref": ...}``, ``{"Fn::Sub": ...}`` and friends (also produced from YAML ``!Ref`` tags)."""
    return (
        isinstance(value, Mapping)
        and len(value) == 1
        and isinstance(next(iter(value)), str)
        and (next(iter(value)) in ("Ref", "Condition") or next(iter(value)).startswith("Fn::"))
    )


@dataclass
class Translation:
    """The API document, how its paths map back to the template, and translation problems."""

    document: Any
    cfn_base: str
    paths: dict[str, str] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    #: API paths dropped because they held intrinsic functions (already reported).
    dropped: set[str] = field(default_factory=set)

    def cfn_path(self, api_path: str) -> str:
        """Map an API field path back to the template path."""
        if api_path in self.paths:
            return self.paths[api_path]
        best = ""
        for p in self.paths:
            if len(p) > len(best) and (api_path.startswith(p + ".") or api_path.startswith(p + "[")):
                best = p
        base = self.paths.get(best, self.cfn_base) if best else self.cfn_base
        rest = api_path[len(best) :].lstrip(".") if best else api_path
        rest = re.sub(r"(^|\.)([a-z])", lambda m: m.group(1) + m.group(2).upper(), rest)
        if not rest:
            return base
        return base + ("" if rest.startswith("[") else ".") + rest


def translate(properties: Any, request_shape: str, cfn_base: str) -> Translation:
    """Translate a resource's ``Properties`` into the API document of ``request_shape``."""
    t = Translation(document=None, cfn_base=cfn_base)
    t.paths[""] = cfn_base
    t.document = _value(t, properties, request_shape, "", cfn_base)
    return t


def _value(t: Translation, value: Any, shape_name: str, api: str, cfn: str) -> Any:
    t.paths[api] = cfn
    if is_intrinsic(value):
        fn = next(iter(value))
        t.problems.append(
            (cfn, f"CloudFormation intrinsic function {fn} is not supported here; write the value")
        )
        t.dropped.add(api)
        return None
    shape = shapes()[shape_name]
    kind = shape["type"]
    if kind == "structure" and isinstance(value, Mapping):
        return _structure(t, value, shape_name, api, cfn)
    if kind == "list" and isinstance(value, list):
        return [
            _value(t, item, shape["member"]["shape"], f"{api}[{i}]", f"{cfn}[{i}]")
            for i, item in enumerate(value)
        ]
    if kind == "map":
        if isinstance(value, list) and all(isinstance(e, Mapping) and "Key" in e for e in value):
            out: dict[str, Any] = {}
            for i, entry in enumerate(value):
                key = entry.get("Key")
                sub_api = path_join(api, str(key))
                t.paths[sub_api] = f"{cfn}[{i}]"
                out[str(key)] = _value(
                    t, entry.get("Value"), shape["value"]["shape"], sub_api, f"{cfn}[{i}].Value"
                )
                t.paths[sub_api] = f"{cfn}[{i}]"
            return out
        if isinstance(value, Mapping):
            return {
                k: _value(t, v, shape["value"]["shape"], path_join(api, str(k)), path_join(cfn, str(k)))
                for k, v in value.items()
            }
    return value


def _structure(
    t: Translation, value: Mapping[str, Any], shape_name: str, api: str, cfn: str
) -> dict[str, Any]:
    members: Mapping[str, Any] = shapes()[shape_name]["members"]
    by_lower = {m.lower(): m for m in members}
    out: dict[str, Any] = {}
    for key, v in value.items():
        k = str(key)
        sub_cfn = path_join(cfn, k)
        if k in _CFN_ONLY.get(shape_name, ()):
            continue
        if shape_name == "TriggerConfig" and k == "TriggerProperties":
            # CloudFormation flattens TriggerProperties.Scheduled into TriggerProperties.
            tp_api = path_join(api, "triggerProperties")
            t.paths[tp_api] = sub_cfn
            out["triggerProperties"] = {
                "Scheduled": _value(t, v, "ScheduledTriggerProperties", tp_api + ".Scheduled", sub_cfn)
            }
            continue
        name = _ALIASES.get(k.lower()) or by_lower.get(k.lower()) or (k[:1].lower() + k[1:])
        sub_api = path_join(api, name)
        if name in members:
            out[name] = _value(t, v, members[name]["shape"], sub_api, sub_cfn)
            if out[name] is None and sub_api in t.dropped:
                del out[name]
        else:
            t.paths[sub_api] = sub_cfn
            out[name] = v  # unknown: the validator reports it, with a suggestion
    return out
