"""Connection profiles: every credential is a reference to a secret, never the secret itself.

A credential is written as a CloudFormation dynamic reference, ``{{resolve:env:VAR}}`` or
``{{resolve:secretsmanager:SECRET_ID[:SecretString[:JSON_KEY]]}}``; a Salesforce
``clientCredentialsArn`` that is a real Secrets Manager ARN is a reference too. Anything else under
``connectorProfileConfig.connectorProfileCredentials.<Connector>`` is refused, and the message never
contains the value.
"""

import re
from collections.abc import Mapping
from typing import Any

from appflow_dagster.spec.botocore_model import Problem, path_join
from appflow_dagster.spec.model import ConnectorProfile, CredentialRef

CREDENTIALS_PATH = "connectorProfileConfig.connectorProfileCredentials"
LITERAL_SECRET = "literal secrets are not allowed; use {{resolve:env:NAME}} or {{resolve:secretsmanager:ID}}"
#: Credential members that are settings, not secrets (enums and the OAuth redirect URL).
NOT_SECRET = frozenset({"oAuth2GrantType", "redirectUri", "authenticationType", "customAuthenticationType"})

_REF = re.compile(r"^\{\{resolve:([A-Za-z0-9_-]+):(.*)\}\}$", re.DOTALL)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SM_ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[^:]+$")


class CredentialReferenceError(ValueError):
    """A ``{{resolve:...}}`` string that is malformed (message safe to show)."""


def looks_like_reference(value: str) -> bool:
    return value.startswith("{{resolve:") and value.endswith("}}")


def parse_reference(value: str) -> CredentialRef:
    """``{{resolve:env:VAR}}`` / ``{{resolve:secretsmanager:ID[:SecretString[:KEY]]}}`` → CredentialRef."""
    m = _REF.match(value.strip())
    if not m:
        raise CredentialReferenceError("is not a {{resolve:...}} reference")
    service, rest = m.group(1), m.group(2)
    if service == "env":
        if not _ENV_NAME.match(rest):
            raise CredentialReferenceError(
                "{{resolve:env:NAME}} needs an environment variable name ([A-Za-z_][A-Za-z0-9_]*)"
            )
        return CredentialRef("env", rest)
    if service == "secretsmanager":
        parts = rest.split(":")
        # An ARN holds 7 colon-separated parts: arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME
        n = 7 if parts[0] == "arn" else 1
        secret_id, tail = ":".join(parts[:n]), parts[n:]
        if not secret_id or (n == 7 and not _SM_ARN.match(secret_id)):
            raise CredentialReferenceError("{{resolve:secretsmanager:...}} needs a secret name or ARN")
        if tail and tail[0] != "SecretString":
            raise CredentialReferenceError(
                "{{resolve:secretsmanager:ID:SecretString:KEY}}: the second part must be SecretString"
            )
        if len(tail) > 2 and any(tail[2:]):
            raise CredentialReferenceError(
                "secret version stages and ids are not supported in {{resolve:secretsmanager:...}}"
            )
        json_key = tail[1] if len(tail) > 1 and tail[1] else None
        return CredentialRef("secretsmanager", secret_id, json_key)
    raise CredentialReferenceError(f"unsupported reference kind '{service}'; use env or secretsmanager")


def collect_credentials(document: Mapping[str, Any]) -> tuple[dict[str, CredentialRef | str], list[Problem]]:
    """Walk ``connectorProfileCredentials.<Connector>``: references become CredentialRef keyed by
    their dotted path below the connector (``oAuthRequest.authCode``); literals are problems."""
    refs: dict[str, CredentialRef | str] = {}
    problems: list[Problem] = []
    config = document.get("connectorProfileConfig")
    creds = config.get("connectorProfileCredentials") if isinstance(config, Mapping) else None
    if not isinstance(creds, Mapping):
        return refs, problems
    for connector, body in creds.items():
        _walk(body, path_join(CREDENTIALS_PATH, str(connector)), "", refs, problems)
    return refs, problems


def _walk(
    value: Any, path: str, rel: str, refs: dict[str, CredentialRef | str], problems: list[Problem]
) -> None:
    if isinstance(value, Mapping):
        for k, v in value.items():
            _walk(v, path_join(path, str(k)), path_join(rel, str(k)), refs, problems)
        return
    if isinstance(value, list):
        for i, v in enumerate(value):
            _walk(v, f"{path}[{i}]", f"{rel}[{i}]", refs, problems)
        return
    leaf = rel.rsplit(".", 1)[-1]
    if leaf in NOT_SECRET and isinstance(value, str):
        refs[rel] = value
        return
    if isinstance(value, str) and looks_like_reference(value):
        try:
            refs[rel] = parse_reference(value)
        except CredentialReferenceError as e:
            problems.append((path, str(e)))
        return
    if leaf == "clientCredentialsArn" and isinstance(value, str) and _SM_ARN.match(value):
        refs[rel] = CredentialRef("secretsmanager", value)
        return
    if value is None:
        return
    problems.append((path, LITERAL_SECRET))


def build_profile(
    document: Mapping[str, Any], credentials: Mapping[str, CredentialRef | str], file: str
) -> ConnectorProfile:
    connector = str(document.get("connectorType", ""))
    config = document.get("connectorProfileConfig") or {}
    props_by_connector = config.get("connectorProfileProperties") or {}
    props: Mapping[str, Any] = {}
    for key, value in props_by_connector.items():
        if key.lower() == connector.lower() or len(props_by_connector) == 1:
            props = dict(value or {})
    return ConnectorProfile(
        name=str(document.get("connectorProfileName", "")),
        connector_type=connector,
        connection_mode=str(document.get("connectionMode", "Public")),
        properties=props,
        credentials=dict(credentials),
        file=file,
    )
