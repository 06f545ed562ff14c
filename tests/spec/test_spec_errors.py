"""Broken documents: each gives one exact ``FILE: field.path: message`` line; all files at once."""

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from appflow_dagster.spec.model import SpecValidationError
from appflow_dagster.spec.parse import load_connections, load_flows, validate_paths

SCHED = "triggerConfig.triggerProperties.Scheduled"


def base_flow() -> dict[str, Any]:
    return {
        "flowName": "Accounts",
        "triggerConfig": {
            "triggerType": "Scheduled",
            "triggerProperties": {
                "Scheduled": {
                    "scheduleExpression": "rate(1hours)",
                    "dataPullMode": "Incremental",
                    "scheduleOffset": 0,
                }
            },
        },
        "sourceFlowConfig": {
            "connectorType": "Salesforce",
            "connectorProfileName": "sf",
            "sourceConnectorProperties": {"Salesforce": {"object": "Account"}},
            "incrementalPullConfig": {"datetimeTypeFieldName": "LastModifiedDate"},
        },
        "destinationFlowConfigList": [
            {
                "connectorType": "S3",
                "destinationConnectorProperties": {
                    "S3": {"bucketName": "demo-bucket", "s3OutputFormatConfig": {"fileType": "JSON"}}
                },
            }
        ],
        "tasks": [
            {
                "taskType": "Map_all",
                "sourceFields": [],
                "connectorOperator": {"Salesforce": "NO_OP"},
                "taskProperties": {},
            }
        ],
    }


def _sched(d: dict[str, Any]) -> dict[str, Any]:
    return d["triggerConfig"]["triggerProperties"]["Scheduled"]


def _add_task(task: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["tasks"].append(task)


CASES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    (
        "missing required",
        lambda d: d["triggerConfig"].pop("triggerType"),
        "triggerConfig.triggerType: is required",
    ),
    (
        "bad enum",
        lambda d: d["triggerConfig"].update(triggerType="Sometimes"),
        "triggerConfig.triggerType: must be one of: Scheduled, Event, OnDemand",
    ),
    (
        "bad type",
        lambda d: d["destinationFlowConfigList"][0]["destinationConnectorProperties"]["S3"][
            "s3OutputFormatConfig"
        ].update(preserveSourceDataTyping="yes"),
        "destinationFlowConfigList[0].destinationConnectorProperties.S3.s3OutputFormatConfig."
        "preserveSourceDataTyping: must be true or false",
    ),
    (
        "bad integer",
        lambda d: _sched(d).update(flowErrorDeactivationThreshold="five"),
        f"{SCHED}.flowErrorDeactivationThreshold: must be an integer",
    ),
    (
        "unknown field with suggestion",
        lambda d: d["tasks"][0].update(taskPropertes={}),
        "tasks[0].taskPropertes: unknown field (did you mean 'taskProperties'?)",
    ),
    (
        "unknown task property key",
        lambda d: d["tasks"][0]["taskProperties"].update(MASK_LENGHT="3"),
        "tasks[0].taskProperties.MASK_LENGHT: unknown key (did you mean 'MASK_LENGTH'?)",
    ),
    (
        "pattern",
        lambda d: d.update(flowName="-bad name"),
        r"flowName: value must match pattern [a-zA-Z0-9][\w!@#.-]+",
    ),
    (
        "string too long",
        lambda d: d.update(flowName="a" * 300),
        "flowName: value must be at most 256 characters",
    ),
    (
        "bad timestamp",
        lambda d: _sched(d).update(scheduleStartTime="next tuesday"),
        f"{SCHED}.scheduleStartTime: must be a timestamp (ISO 8601 string or epoch seconds)",
    ),
    (
        "scheduleOffset out of range",
        lambda d: _sched(d).update(scheduleOffset=36001),
        f"{SCHED}.scheduleOffset: must be between 0 and 36000 seconds (the offset must be less than 10 hours)",
    ),
    (
        "incremental without datetime field",
        lambda d: d["sourceFlowConfig"].pop("incrementalPullConfig"),
        "sourceFlowConfig.incrementalPullConfig.datetimeTypeFieldName: is required for a Scheduled Incremental "
        "flow (the source timestamp field, e.g. LastModifiedDate)",
    ),
    (
        "scheduled without properties",
        lambda d: d["triggerConfig"].pop("triggerProperties"),
        f"{SCHED}: is required when triggerType is Scheduled",
    ),
    (
        "bad schedule expression",
        lambda d: _sched(d).update(scheduleExpression="rate(2 weeks)"),
        f"{SCHED}.scheduleExpression: cannot parse schedule expression 'rate(2 weeks)'; expected "
        "rate(N minutes|hours|days) or cron(minutes hours day-of-month month day-of-week year)",
    ),
    (
        "cron without standard equivalent",
        lambda d: _sched(d).update(scheduleExpression="cron(0 8 15W * ? *)"),
        f"{SCHED}.scheduleExpression: cron day-of-month '15W' (W, L-n) has no standard cron equivalent",
    ),
    (
        "bad timezone",
        lambda d: _sched(d).update(timezone="Mars/Olympus"),
        f"{SCHED}.timezone: must be an IANA time zone name, e.g. America/New_York",
    ),
    (
        "11 partition keys",
        _add_task(
            {
                "taskType": "Partition",
                "sourceFields": [f"F{i}" for i in range(11)],
                "connectorOperator": {"Salesforce": "NO_OP"},
                "taskProperties": {"ORDERED_PARTITION_KEYS_LIST": json.dumps([f"F{i}" for i in range(11)])},
            }
        ),
        "tasks[1].taskProperties.ORDERED_PARTITION_KEYS_LIST: at most 10 partition keys are allowed (got 11)",
    ),
    (
        "BETWEEN filter without upper bound",
        _add_task(
            {
                "taskType": "Filter",
                "sourceFields": ["AnnualRevenue"],
                "connectorOperator": {"Salesforce": "BETWEEN"},
                "taskProperties": {"DATA_TYPE": "currency", "LOWER_BOUND": "10"},
            }
        ),
        "tasks[1].taskProperties.UPPER_BOUND: is required for a BETWEEN filter",
    ),
    (
        "comparison filter without value",
        _add_task(
            {
                "taskType": "Filter",
                "sourceFields": ["Industry"],
                "connectorOperator": {"Salesforce": "EQUAL_TO"},
            }
        ),
        "tasks[1].taskProperties.VALUE: is required for a EQUAL_TO filter (or VALUES)",
    ),
    (
        "map without destination field",
        _add_task({"taskType": "Map", "sourceFields": ["Id"], "connectorOperator": {"Salesforce": "NO_OP"}}),
        "tasks[1].destinationField: is required for a Map task",
    ),
    (
        "validate with a bad action",
        _add_task(
            {
                "taskType": "Validate",
                "sourceFields": ["Rating"],
                "connectorOperator": {"Salesforce": "VALIDATE_NON_NULL"},
                "taskProperties": {"VALIDATION_ACTION": "Ignore"},
            }
        ),
        "tasks[1].taskProperties.VALIDATION_ACTION: must be one of: DropRecord, TerminateFlow",
    ),
    (
        "mask length",
        _add_task(
            {
                "taskType": "Mask",
                "sourceFields": ["Phone"],
                "connectorOperator": {"Salesforce": "MASK_LAST_N"},
                "taskProperties": {"MASK_LENGTH": "0", "MASK_VALUE": "*"},
            }
        ),
        "tasks[1].taskProperties.MASK_LENGTH: must be an integer ≥ 1",
    ),
    (
        "bad connector operator for the connector",
        lambda d: d["tasks"][0].update(connectorOperator={"Salesforce": "FROBNICATE"}),
        "tasks[0].connectorOperator.Salesforce: must be one of: PROJECTION, LESS_THAN, CONTAINS, GREATER_THAN, "
        "BETWEEN, LESS_THAN_OR_EQUAL_TO, GREATER_THAN_OR_EQUAL_TO, EQUAL_TO, NOT_EQUAL_TO, ADDITION, "
        "MULTIPLICATION, DIVISION, SUBTRACTION, MASK_ALL, MASK_FIRST_N, MASK_LAST_N, VALIDATE_NON_NULL, "
        "VALIDATE_NON_ZERO, VALIDATE_NON_NEGATIVE, VALIDATE_NUMERIC, NO_OP",
    ),
    (
        "unsupported source connector",
        lambda d: d["sourceFlowConfig"].update(
            connectorType="Zendesk", sourceConnectorProperties={"Zendesk": {"object": "tickets"}}
        ),
        "sourceFlowConfig.connectorType: source connector 'Zendesk' is not supported yet; supported: Salesforce",
    ),
    (
        "unsupported destination connector",
        lambda d: d["destinationFlowConfigList"].__setitem__(
            0,
            {
                "connectorType": "Snowflake",
                "destinationConnectorProperties": {
                    "Snowflake": {"object": "T", "intermediateBucketName": "b"}
                },
            },
        ),
        "destinationFlowConfigList[0].connectorType: destination connector 'Snowflake' is not supported yet; supported: S3",
    ),
    (
        "two S3 destinations",
        lambda d: d["destinationFlowConfigList"].append(copy.deepcopy(d["destinationFlowConfigList"][0])),
        "destinationFlowConfigList[1]: a flow can have at most one S3 destination",
    ),
    (
        "runs more often than the source allows",
        lambda d: (
            d["sourceFlowConfig"].update(
                connectorType="Marketo", sourceConnectorProperties={"Marketo": {"object": "leads"}}
            )
            or _sched(d).update(scheduleExpression="rate(5minutes)")
        ),
        f"{SCHED}.scheduleExpression: runs more often than Marketo allows (at most once per hour)",
    ),
]


def _write(tmp_path: Path, name: str, doc: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_base_flow_is_valid(tmp_path: Path) -> None:
    (flow,) = load_flows([_write(tmp_path, "ok.json", base_flow())])
    assert flow.is_incremental


@pytest.mark.parametrize(("mutate", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_broken_document_gives_exact_line(
    tmp_path: Path, mutate: Callable[[dict[str, Any]], None], expected: str
) -> None:
    doc = base_flow()
    mutate(doc)
    path = _write(tmp_path, "flow.json", doc)
    lines = [str(e) for e in validate_paths([path])]
    assert f"{path}: {expected}" in lines, "\n".join(lines)


def test_literal_secret_is_refused_without_echoing_it(tmp_path: Path) -> None:
    secret = "5Aep861TSESvWeug_xvFHRBTTbf_YrTWgEyjBJvk3XEy"
    doc = {
        "connectorProfileName": "sf",
        "connectorType": "Salesforce",
        "connectionMode": "Public",
        "connectorProfileConfig": {
            "connectorProfileProperties": {
                "Salesforce": {"instanceUrl": "https://example.my.salesforce.com"}
            },
            "connectorProfileCredentials": {
                "Salesforce": {"accessToken": "{{resolve:env:SF_TOKEN}}", "refreshToken": secret}
            },
        },
    }
    conn_dir = tmp_path / "connections"
    conn_dir.mkdir()
    path = _write(conn_dir, "sf.json", doc)
    with pytest.raises(SpecValidationError) as info:
        load_connections([path])
    assert [str(e) for e in info.value.errors] == [
        f"{path}: connectorProfileConfig.connectorProfileCredentials.Salesforce.refreshToken: "
        "literal secrets are not allowed; use {{resolve:env:NAME}} or {{resolve:secretsmanager:ID}}"
    ]
    assert secret not in str(info.value)
    assert secret not in repr(info.value.errors)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            "{{resolve:env:1BAD}}",
            "{{resolve:env:NAME}} needs an environment variable name ([A-Za-z_][A-Za-z0-9_]*)",
        ),
        ("{{resolve:ssm:param}}", "unsupported reference kind 'ssm'; use env or secretsmanager"),
        (
            "{{resolve:secretsmanager:sf:SecretBinary:k}}",
            "{{resolve:secretsmanager:ID:SecretString:KEY}}: the second part must be SecretString",
        ),
    ],
)
def test_malformed_references(tmp_path: Path, value: str, message: str) -> None:
    doc = {
        "connectorProfileName": "sf",
        "connectorType": "Salesforce",
        "connectionMode": "Public",
        "connectorProfileConfig": {
            "connectorProfileProperties": {"Salesforce": {}},
            "connectorProfileCredentials": {"Salesforce": {"accessToken": value}},
        },
    }
    path = _write(tmp_path, "sf.json", doc)
    assert [str(e) for e in validate_paths([path])] == [
        f"{path}: connectorProfileConfig.connectorProfileCredentials.Salesforce.accessToken: {message}"
    ]


def test_every_error_of_every_file_at_once(tmp_path: Path) -> None:
    a = base_flow()
    a["triggerConfig"]["triggerType"] = "Sometimes"
    a["tasks"][0]["taskPropertes"] = {}
    b = base_flow()
    b["flowName"] = "Other"
    _sched(b)["scheduleOffset"] = -1
    (tmp_path / "c.yaml").write_text("flowName: [unclosed\n", encoding="utf-8")
    (tmp_path / "d.json").write_text('{"flowName": ', encoding="utf-8")
    _write(tmp_path, "a.json", a)
    _write(tmp_path, "b.json", b)
    with pytest.raises(SpecValidationError) as info:
        load_flows([tmp_path])
    assert str(info.value).splitlines() == [
        f"{tmp_path / 'a.json'}: triggerConfig.triggerType: must be one of: Scheduled, Event, OnDemand",
        f"{tmp_path / 'a.json'}: tasks[0].taskPropertes: unknown field (did you mean 'taskProperties'?)",
        f"{tmp_path / 'b.json'}: {SCHED}.scheduleOffset: must be between 0 and 36000 seconds "
        "(the offset must be less than 10 hours)",
        f"{tmp_path / 'c.yaml'}: invalid YAML at line 2 column 1: expected ',' or ']', but got '<stream end>'",
        f"{tmp_path / 'd.json'}: invalid JSON at line 1 column 14: Expecting value",
    ]


CFN_FLOW = """\
AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  Bucket:
    Type: String
Resources:
  Role:
    Type: AWS::IAM::Role
  MyFlow:
    Type: AWS::AppFlow::Flow
    Properties:
      FlowName: !Sub '${AWS::StackName}-flow'
      FlowStatus: Active
      TriggerConfig:
        TriggerProperties:
          ScheduleExpression: rate(1days)
          DataPullMode: Complete
          TimeZone: Europe/Paris
      SourceFlowConfig:
        ConnectorType: Salesforce
        SourceConnectorProperties:
          Salesforce:
            Object: Account
      DestinationFlowConfigList:
        - ConnectorType: S3
          DestinationConnectorProperties:
            S3:
              BucketName: !Ref Bucket
              S3OutputFormatConfig:
                FileType: PARQUET
                AggregationConfig:
                  AggregationType: Single
      Tasks:
        - TaskType: Map_all
          SourceFields: []
          TaskProperties:
            - Key: EXCLUDE_SOURCE_FIELDS_LIST
              Value: '[]'
            - Key: EXCLUDE_SOURCE_FIELD_LIST
              Value: '[]'
          ConnectorOperatr:
            Salesforce: NO_OP
"""


def test_cloudformation_errors_use_template_paths(tmp_path: Path) -> None:
    path = tmp_path / "stack.yaml"
    path.write_text(CFN_FLOW, encoding="utf-8")
    base = f"{path}: Resources.MyFlow.Properties"
    assert [str(e) for e in validate_paths([path])] == [
        f"{base}.FlowName: CloudFormation intrinsic function Fn::Sub is not supported here; write the value",
        f"{base}.DestinationFlowConfigList[0].DestinationConnectorProperties.S3.BucketName: "
        "CloudFormation intrinsic function Ref is not supported here; write the value",
        f"{base}.TriggerConfig.TriggerType: is required",
        f"{base}.DestinationFlowConfigList[0].DestinationConnectorProperties.S3.S3OutputFormatConfig."
        "AggregationConfig.AggregationType: must be one of: None, SingleFile",
        f"{base}.Tasks[0].TaskProperties[1]: unknown key (did you mean 'EXCLUDE_SOURCE_FIELDS_LIST'?)",
        f"{base}.Tasks[0].ConnectorOperatr: unknown field (did you mean 'ConnectorOperator'?)",
    ]
