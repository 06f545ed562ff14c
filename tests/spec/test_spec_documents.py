"""Accepted documents: the guide's CreateFlow and CloudFormation examples, describe-flow output."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from appflow_dagster.spec.model import CredentialRef
from appflow_dagster.spec.parse import load_connections, load_flows, validate_paths

FIXTURES = Path(__file__).parent.parent / "fixtures" / "spec"
GUIDE = FIXTURES / "guide"


@pytest.mark.parametrize(
    "name",
    ["create_flow_salesforce_to_s3.json", "cfn_flow_salesforce_to_s3.json", "cfn_flow_salesforce_to_s3.yaml"],
)
def test_guide_flow_examples_are_accepted(name: str) -> None:
    (flow,) = load_flows([GUIDE / name])
    assert flow.name == "MySalesforceToS3Flow"
    assert flow.file == str(GUIDE / name)
    assert flow.source.connector_type == "Salesforce"
    assert flow.source.object == "Account"
    assert flow.source.connector_profile_name == "MySalesforceConnection"
    assert flow.trigger.trigger_type == "OnDemand"
    assert flow.destination.connector_type == "S3"
    assert flow.destination.output_format.file_type == "CSV"
    assert [t.task_type for t in flow.tasks] == ["Map_all"]
    assert flow.document["flowName"] == "MySalesforceToS3Flow"


def test_cloudformation_is_translated_to_the_api_document() -> None:
    (flow,) = load_flows([GUIDE / "cfn_flow_salesforce_to_s3.yaml"])
    (json_flow,) = load_flows([GUIDE / "cfn_flow_salesforce_to_s3.json"])
    assert flow.document == json_flow.document
    s3 = flow.document["destinationFlowConfigList"][0]["destinationConnectorProperties"]["S3"]
    assert s3 == {"bucketName": "<s3-bucket-name>", "s3OutputFormatConfig": {"fileType": "CSV"}}
    task = flow.document["tasks"][0]
    assert task == {
        "taskType": "Map_all",
        "sourceFields": [],
        "taskProperties": {"EXCLUDE_SOURCE_FIELDS_LIST": "[]"},
        "connectorOperator": {"Salesforce": "NO_OP"},
    }
    assert flow.tasks[0].connector_operator == "NO_OP"


def test_folder_reads_sorted_files_and_reports_duplicate_names() -> None:
    errors = [str(e) for e in validate_paths([GUIDE])]
    assert errors == [
        f"{GUIDE / 'cfn_flow_salesforce_to_s3.yaml'}: Resources.MySalesforceToS3Flow.Properties.FlowName: "
        f"duplicate flow name 'MySalesforceToS3Flow' (also defined in {GUIDE / 'cfn_flow_salesforce_to_s3.json'})",
        f"{GUIDE / 'create_flow_salesforce_to_s3.json'}: flowName: "
        f"duplicate flow name 'MySalesforceToS3Flow' (also defined in {GUIDE / 'cfn_flow_salesforce_to_s3.json'})",
    ]


def test_describe_flow_output_is_accepted_and_read_only_members_dropped() -> None:
    (flow,) = load_flows([FIXTURES / "describe_flow_output.json"])
    for member in (
        "flowArn",
        "flowStatus",
        "createdAt",
        "lastRunExecutionDetails",
        "schemaVersion",
        "ResponseMetadata",
    ):
        assert member not in flow.document
    s = flow.trigger.scheduled
    assert s is not None
    assert flow.is_incremental
    assert s.schedule_expression == "rate(1hours)"
    assert s.schedule_start_time == datetime(2024, 6, 3, 9, 0, tzinfo=UTC)  # epoch number
    assert s.first_execution_from == datetime(2024, 6, 1, tzinfo=UTC)  # ISO string
    assert s.timezone == "America/New_York"
    assert s.schedule_offset == 600
    assert flow.source.datetime_type_field_name == "LastModifiedDate"
    fmt = flow.destination.output_format
    assert (fmt.file_type, fmt.prefix_config.prefix_type, fmt.prefix_config.path_prefix_hierarchy) == (
        "PARQUET",
        "PATH",
        ("EXECUTION_ID",),
    )
    assert fmt.aggregation_config.target_file_size == 128
    assert fmt.preserve_source_data_typing is True
    assert [t.connector_operator for t in flow.tasks][-1] == "VALIDATE_NON_NULL"
    assert flow.tags == {"team": "data"}


def test_connections_with_references_are_accepted() -> None:
    profiles = load_connections([FIXTURES / "connections"])
    by_name = {p.name: p for p in profiles}
    api = by_name["MySalesforceConnection"]
    assert api.connector_type == "Salesforce"
    assert api.properties["instanceUrl"] == "{{resolve:env:SF_INSTANCE_URL}}"
    assert api.credentials["accessToken"] == CredentialRef("env", "SF_ACCESS_TOKEN")
    assert api.credentials["refreshToken"] == CredentialRef(
        "secretsmanager", "appflow/salesforce", "refresh_token"
    )
    assert api.credentials["oAuthRequest.authCode"] == CredentialRef("env", "SF_AUTH_CODE")
    assert api.credentials["clientCredentialsArn"] == CredentialRef(
        "secretsmanager", "arn:aws:secretsmanager:us-east-1:123456789012:secret:appflow-sf-client-AbCdEf"
    )
    cfn = by_name["MySalesforceConnection2"]
    assert cfn.credentials["refreshToken"] == CredentialRef(
        "secretsmanager", "arn:aws:secretsmanager:us-east-1:123456789012:secret:sf-AbCdEf", "refresh_token"
    )
    assert cfn.credentials["oAuthRequest.authCode"] == CredentialRef("env", "SF_AUTH_CODE")
    assert str(cfn.credentials["accessToken"]) == "{{resolve:env:SF_ACCESS_TOKEN}}"


def test_guide_connection_example_literal_secrets_are_refused() -> None:
    path = GUIDE / "connections" / "guide_salesforce.json"
    errors = [str(e) for e in validate_paths([path])]
    base = f"{path}: connectorProfileConfig.connectorProfileCredentials.Salesforce"
    msg = "literal secrets are not allowed; use {{resolve:env:NAME}} or {{resolve:secretsmanager:ID}}"
    assert errors == [
        f"{base}.accessToken: {msg}",
        f"{base}.refreshToken: {msg}",
        f"{base}.oAuthRequest.authCode: {msg}",
        f"{base}.clientCredentialsArn: {msg}",
    ]
    assert not any("-value>" in e for e in errors)


def test_flows_folder_skips_connection_files() -> None:
    assert load_flows([FIXTURES / "connections"]) == []
