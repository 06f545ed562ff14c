"""Resolve credential references (``{{resolve:env:VAR}}``, Secrets Manager) without leaking values.

A resolved value is a :class:`Secret`: it prints as ``***`` so it is safe in reprs, f-strings and
logs by accident; call :meth:`Secret.reveal` only where the value is sent to the vendor.
"""

import os
import re
from collections.abc import Iterable
from typing import Any

import orjson

from appflow_dagster.spec.model import CredentialRef

__all__ = [
    "Secret",
    "SecretResolutionError",
    "parse_ref",
    "redact",
    "resolve",
    "resolve_secret",
    "resolve_json",
    "resolve_string",
    "resolve_value",
]

MASK = "***"

#: ``{{resolve:env:VAR}}`` or ``{{resolve:secretsmanager:ID[:SecretString[:JSON_KEY]]}}`` (CloudFormation style).
_REF_RE = re.compile(r"\{\{resolve:(?P<kind>env|secretsmanager):(?P<body>[^{}]+)\}\}")
_SECRET_ARN_RE = re.compile(r"^arn:aws[\w-]*:secretsmanager:[\w-]+:\d{12}:secret:.+$")


class SecretResolutionError(LookupError):
    """A reference could not be resolved. The message names the reference, never a value."""


class Secret:
    """A string that never shows itself: ``str``/``repr``/``format`` give ``***``."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __str__(self) -> str:
        return MASK

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __format__(self, spec: str) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> Any:  # refuse to be pickled into run storage by accident
        raise TypeError("Secret values cannot be pickled")


def parse_ref(text: str) -> CredentialRef | None:
    """Parse a whole-string ``{{resolve:...}}`` reference or a Secrets Manager ARN; None otherwise."""
    text = text.strip()
    m = _REF_RE.fullmatch(text)
    if m:
        kind, body = m.group("kind"), m.group("body")
        if kind == "env":
            return CredentialRef("env", body)
        return _parse_secretsmanager_body(body)
    if _SECRET_ARN_RE.match(text):
        return _parse_secretsmanager_body(text)
    return None


def _parse_secretsmanager_body(body: str) -> CredentialRef:
    # The id may itself be an ARN (which contains colons): split the CloudFormation suffix off the end.
    json_key: str | None = None
    secret_id = body
    if body.startswith("arn:"):
        parts = body.split(":")
        # arn:aws:secretsmanager:region:account:secret:name[:SecretString[:key]]
        secret_id = ":".join(parts[:7])
        rest = parts[7:]
    else:
        secret_id, *rest = body.split(":")
    if rest and rest[0] == "SecretString":
        rest = rest[1:]
    if rest and rest[0]:
        json_key = rest[0]
    return CredentialRef("secretsmanager", secret_id, json_key)


def resolve(ref: CredentialRef, *, secretsmanager_client: Any = None) -> str:
    """Return the plain value of ``ref``.

    ``env``: the environment variable (missing → error naming the variable).
    ``secretsmanager``: ``GetSecretValue``'s ``SecretString``, or one key of it when it is a JSON object.
    """
    if ref.kind == "env":
        value = os.environ.get(ref.name)
        if value is None:
            raise SecretResolutionError(f"environment variable {ref.name!r} is not set (needed by {ref})")
        return _json_key(value, ref) if ref.json_key else value
    if ref.kind == "secretsmanager":
        client = secretsmanager_client
        if client is None:
            import boto3

            client = boto3.client("secretsmanager")
        try:
            response = client.get_secret_value(SecretId=ref.name)
        except Exception as exc:  # botocore errors carry no secret value, only the id and code
            code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
            raise SecretResolutionError(f"cannot read secret {ref}: {code}") from None
        value = response.get("SecretString")
        if value is None:
            raise SecretResolutionError(f"secret {ref} has no SecretString")
        return _json_key(value, ref) if ref.json_key else value
    raise SecretResolutionError(f"unknown reference kind {ref.kind!r}")


def resolve_secret(ref: CredentialRef, *, secretsmanager_client: Any = None) -> Secret:
    return Secret(resolve(ref, secretsmanager_client=secretsmanager_client))


def _json_key(value: str, ref: CredentialRef) -> str:
    obj = _json_object(value, ref)
    if ref.json_key not in obj:
        raise SecretResolutionError(f"secret {ref} has no key {ref.json_key!r} (keys: {sorted(obj)})")
    return str(obj[ref.json_key])


def _json_object(value: str, ref: CredentialRef) -> dict[str, Any]:
    try:
        obj = orjson.loads(value)
    except orjson.JSONDecodeError:
        raise SecretResolutionError(f"secret {ref} is not a JSON object") from None
    if not isinstance(obj, dict):
        raise SecretResolutionError(f"secret {ref} is not a JSON object")
    return obj


def resolve_json(ref: CredentialRef, *, secretsmanager_client: Any = None) -> dict[str, Any]:
    """Resolve a secret holding a JSON object (e.g. Salesforce's ``{"clientId", "clientSecret"}``)."""
    return _json_object(resolve(ref, secretsmanager_client=secretsmanager_client), ref)


def resolve_string(text: str, *, secretsmanager_client: Any = None) -> str:
    """Replace every ``{{resolve:...}}`` in ``text`` with its value (for non-secret settings like URLs)."""

    def sub(m: re.Match[str]) -> str:
        ref = parse_ref(m.group(0))
        assert ref is not None
        return resolve(ref, secretsmanager_client=secretsmanager_client)

    return _REF_RE.sub(sub, text)


def resolve_value(value: CredentialRef | str | None, *, secretsmanager_client: Any = None) -> Secret | None:
    """A profile credential (a :class:`CredentialRef`, a reference string or a literal) as a Secret."""
    if value is None:
        return None
    if isinstance(value, CredentialRef):
        return resolve_secret(value, secretsmanager_client=secretsmanager_client)
    ref = parse_ref(value)
    if ref is not None:
        return resolve_secret(ref, secretsmanager_client=secretsmanager_client)
    return Secret(resolve_string(value, secretsmanager_client=secretsmanager_client))


def redact(text: str, secrets: Iterable[Secret | str | None]) -> str:
    """Replace every occurrence of each secret value in ``text`` with ``***`` (longest first).

    Values shorter than four characters are left alone: masking every ``t`` would garble the
    message and reveal more (by elimination) than it hides.
    """
    values = {s.reveal() if isinstance(s, Secret) else s for s in secrets if s}
    for value in sorted((v for v in values if v and len(v) >= 4), key=len, reverse=True):
        text = text.replace(value, MASK)
    return text
