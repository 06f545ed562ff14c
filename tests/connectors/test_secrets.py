"""Credential references: env, Secrets Manager (moto's server over HTTP), redaction, no leaks."""

from typing import Any

import boto3
import orjson
import pytest

from appflow_dagster.connectors.secrets import (
    Secret,
    SecretResolutionError,
    parse_ref,
    redact,
    resolve,
    resolve_string,
    resolve_value,
)
from appflow_dagster.spec.model import CredentialRef

CANARY = "CANARY-secret-value-5d1e"


def test_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SF_TOKEN", CANARY)
    assert resolve(CredentialRef("env", "SF_TOKEN")) == CANARY
    monkeypatch.delenv("SF_TOKEN")
    with pytest.raises(SecretResolutionError, match="SF_TOKEN"):
        resolve(CredentialRef("env", "SF_TOKEN"))


def test_env_json_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SF_APP", '{"clientId": "id", "clientSecret": "' + CANARY + '"}')
    assert resolve(CredentialRef("env", "SF_APP", "clientSecret")) == CANARY
    with pytest.raises(SecretResolutionError) as e:
        resolve(CredentialRef("env", "SF_APP", "missing"))
    assert CANARY not in str(e.value)


def test_secret_never_prints() -> None:
    s = Secret(CANARY)
    assert str(s) == "***" and CANARY not in repr(s) and f"{s}" == "***" and s.reveal() == CANARY
    assert redact(f"token={CANARY}; again {CANARY}", [s, None]) == "token=***; again ***"


def test_parse_ref_and_resolve_string(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_ref("{{resolve:env:X}}") == CredentialRef("env", "X")
    assert parse_ref("{{resolve:secretsmanager:app:SecretString:clientId}}") == CredentialRef(
        "secretsmanager", "app", "clientId"
    )
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:sf-app-AbCdEf"
    assert parse_ref(arn) == CredentialRef("secretsmanager", arn)
    assert parse_ref(f"{{{{resolve:secretsmanager:{arn}:SecretString:clientSecret}}}}") == CredentialRef(
        "secretsmanager", arn, "clientSecret"
    )
    assert parse_ref("https://x") is None
    monkeypatch.setenv("SF_HOST", "127.0.0.1:8443")
    assert resolve_string("https://{{resolve:env:SF_HOST}}/") == "https://127.0.0.1:8443/"
    assert resolve_value("{{resolve:env:SF_HOST}}") == Secret("127.0.0.1:8443")


@pytest.fixture
def secretsmanager(moto_server: str) -> Any:
    return boto3.client(
        "secretsmanager",
        endpoint_url=moto_server,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_secretsmanager(secretsmanager: Any) -> None:
    arn = secretsmanager.create_secret(
        Name="appflow/salesforce-app",
        SecretString=orjson.dumps({"clientId": "the-id", "clientSecret": CANARY}).decode(),
    )["ARN"]
    by_arn = CredentialRef("secretsmanager", arn, "clientSecret")
    assert resolve(by_arn, secretsmanager_client=secretsmanager) == CANARY
    whole = resolve(
        CredentialRef("secretsmanager", "appflow/salesforce-app"), secretsmanager_client=secretsmanager
    )
    assert orjson.loads(whole)["clientId"] == "the-id"
    with pytest.raises(SecretResolutionError) as e:
        resolve(CredentialRef("secretsmanager", "appflow/missing"), secretsmanager_client=secretsmanager)
    assert "ResourceNotFoundException" in str(e.value)
    with pytest.raises(SecretResolutionError) as e:
        resolve(CredentialRef("secretsmanager", arn, "nope"), secretsmanager_client=secretsmanager)
    assert CANARY not in str(e.value)


def test_profile_client_credentials_from_secretsmanager(
    secretsmanager: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from appflow_dagster.connectors.salesforce import SalesforceConnector
    from appflow_dagster.spec.model import ConnectorProfile

    arn = secretsmanager.create_secret(
        Name="appflow/salesforce-app-2",
        SecretString=orjson.dumps({"clientId": "the-id", "clientSecret": CANARY}).decode(),
    )["ARN"]
    monkeypatch.setenv("SF_URL", "https://example.my.salesforce.com")
    profile = ConnectorProfile(
        name="p",
        connector_type="Salesforce",
        properties={"instanceUrl": "{{resolve:env:SF_URL}}"},
        credentials={
            "clientCredentialsArn": CredentialRef("secretsmanager", arn),
            "oAuth2GrantType": "CLIENT_CREDENTIALS",
        },
    )
    sf = SalesforceConnector.from_profile(profile, secretsmanager_client=secretsmanager)
    try:
        assert sf.instance_url == "https://example.my.salesforce.com"
        assert sf._auth.client_secret == Secret(CANARY) and sf._auth.grant_type == "CLIENT_CREDENTIALS"
        assert CANARY not in repr(sf) + repr(sf._auth)
    finally:
        sf.close()
