"""How flows become asset specs. Users subclass :class:`AppFlowTranslator` to change keys, groups
and metadata, calling ``super().get_asset_spec(flow).replace_attributes(...)``.

Asset keys are public API (see docs/keys.md) and snapshot-tested:

- a source object: ``<connector type, lower case>/<object>``, e.g. ``salesforce/Account``;
- a flow: ``appflow/<flowName>``, with characters Dagster does not allow in a key part replaced by ``_``.
"""

import re
from dataclasses import dataclass

import dagster as dg

from appflow_dagster.spec.model import FlowSpec

_KEY_PART = re.compile(r"[^A-Za-z0-9_]")
_TAG_VALUE = re.compile(r"^[A-Za-z0-9_.-]{0,63}$")


def key_part(name: str) -> str:
    """A flow or object name made safe as one asset-key part (``my-flow.v2`` → ``my_flow_v2``)."""
    return _KEY_PART.sub("_", name)


@dataclass(frozen=True)
class SourceObjectProps:
    """The source object a flow reads: one external asset per (connector type, object)."""

    connector_type: str
    object: str
    connector_profile_name: str | None = None


class AppFlowTranslator:
    """Default naming: keys, group, kinds, owners and tags for flows and their source objects."""

    def get_source_asset_spec(self, props: SourceObjectProps) -> dg.AssetSpec:
        return dg.AssetSpec(
            key=dg.AssetKey([key_part(props.connector_type.lower()), key_part(props.object)]),
            description=f"{props.connector_type} object {props.object} (external source).",
            group_name="sources",
            kinds={props.connector_type.lower()},
        )

    def get_asset_spec(self, flow: FlowSpec) -> dg.AssetSpec:
        source = self.get_source_asset_spec(
            SourceObjectProps(
                flow.source.connector_type, flow.source.object, flow.source.connector_profile_name
            )
        )
        dest = flow.destination
        fmt = dest.output_format.file_type.lower()
        description = flow.description or (
            f"AppFlow flow {flow.name}: {flow.source.connector_type} {flow.source.object} → "
            f"{dest.connector_type} {dest.bucket_name}/{dest.bucket_prefix or ''} ({fmt})."
        )
        tags = {
            k: v for k, v in flow.tags.items() if _valid_tag(k, v) and k.lower() not in ("owner", "owners")
        }
        tags["appflow/trigger"] = flow.trigger.trigger_type
        return dg.AssetSpec(
            key=dg.AssetKey(["appflow", key_part(flow.name)]),
            deps=[source.key],
            description=description,
            group_name="appflow",
            kinds={flow.source.connector_type.lower(), dest.connector_type.lower(), fmt},
            owners=_owners(flow),
            tags=tags,
            metadata={
                "appflow/flow_name": flow.name,
                "appflow/flow_file": flow.file,
                "appflow/source": f"{flow.source.connector_type}:{flow.source.object}",
                "appflow/connector_profile": flow.source.connector_profile_name or "",
                "appflow/destination": f"{dest.connector_type}:{dest.bucket_name}/{dest.bucket_prefix or ''}",
                "appflow/file_type": dest.output_format.file_type,
            },
        )


def _valid_tag(key: str, value: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9_.-]{1,63}", key)) and bool(_TAG_VALUE.fullmatch(value))


def _owners(flow: FlowSpec) -> list[str]:
    """Owners from the flow's ``owner``/``owners`` tag: emails or ``team:name``, comma separated."""
    raw = next((v for k, v in flow.tags.items() if k.lower() in ("owner", "owners")), "")
    owners = [o.strip() for o in raw.replace(";", ",").split(",") if o.strip()]
    return [o if ("@" in o or o.startswith("team:")) else f"team:{key_part(o)}" for o in owners]
