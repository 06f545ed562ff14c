"""The flow and connection documents the benchmark runs, written under ``bench/.work``.

They are ordinary AppFlow documents (CreateFlow / CreateConnectorProfile) so the project reads
them through its public parser, exactly as a user's files would be.
"""

import json
import os
from pathlib import Path

from common import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, WORK

URL_VAR = "APPFLOW_BENCH_SALESFORCE_URL"
TOKEN_VAR = "APPFLOW_BENCH_SALESFORCE_REFRESH_TOKEN"
CLIENT_VAR = "APPFLOW_BENCH_SALESFORCE_CLIENT_CREDENTIALS"
PROFILE = "bench-salesforce"
BUCKET = "appflow-bench"
FLOW = "bench-account"
P4_FLOW = "bench-account-daily"


def connection_doc() -> dict:
    return {
        "connectorProfileName": PROFILE,
        "connectorType": "Salesforce",
        "connectionMode": "Public",
        "connectorProfileConfig": {
            "connectorProfileProperties": {
                "Salesforce": {"instanceUrl": "{{resolve:env:" + URL_VAR + "}}", "isSandboxEnvironment": True}
            },
            "connectorProfileCredentials": {
                "Salesforce": {
                    "refreshToken": "{{resolve:env:" + TOKEN_VAR + "}}",
                    "clientCredentialsArn": "{{resolve:env:" + CLIENT_VAR + "}}",
                    "oAuth2GrantType": "AUTHORIZATION_CODE",
                }
            },
        },
    }


def _s3(aggregation: str) -> dict:
    return {
        "connectorType": "S3",
        "destinationConnectorProperties": {
            "S3": {
                "bucketName": BUCKET,
                "bucketPrefix": "salesforce",
                "s3OutputFormatConfig": {
                    "fileType": "PARQUET",
                    "preserveSourceDataTyping": True,
                    "aggregationConfig": {"aggregationType": aggregation},
                },
            }
        },
    }


_MAP_ALL = {
    "sourceFields": [],
    "taskType": "Map_all",
    "taskProperties": {"EXCLUDE_SOURCE_FIELDS_LIST": "[]"},
    "connectorOperator": {"Salesforce": "NO_OP"},
}


def flow_doc() -> dict:
    """Account → S3 (a local folder here), Parquet in one file, every field (Map_all), on demand."""
    return {
        "flowName": FLOW,
        "triggerConfig": {"triggerType": "OnDemand"},
        "sourceFlowConfig": {
            "connectorType": "Salesforce",
            "connectorProfileName": PROFILE,
            "sourceConnectorProperties": {"Salesforce": {"object": "Account"}},
        },
        "destinationFlowConfigList": [_s3("SingleFile")],
        "tasks": [_MAP_ALL],
    }


def daily_flow_doc(first_execution_from_epoch_s: int) -> dict:
    """The same transfer, scheduled daily and incremental on LastModifiedDate (one partition per day)."""
    return {
        "flowName": P4_FLOW,
        "triggerConfig": {
            "triggerType": "Scheduled",
            "triggerProperties": {
                "Scheduled": {
                    "scheduleExpression": "rate(1days)",
                    "dataPullMode": "Incremental",
                    "timezone": "UTC",
                    "firstExecutionFrom": first_execution_from_epoch_s,
                }
            },
        },
        "sourceFlowConfig": {
            "connectorType": "Salesforce",
            "connectorProfileName": PROFILE,
            "sourceConnectorProperties": {"Salesforce": {"object": "Account"}},
            "incrementalPullConfig": {"datetimeTypeFieldName": "LastModifiedDate"},
        },
        "destinationFlowConfigList": [_s3("SingleFile")],
        "tasks": [_MAP_ALL],
    }


def write_project(name: str, flows: list[dict]) -> tuple[Path, Path]:
    """``bench/.work/<name>/{flows,connections}`` with the given flows and the bench connection."""
    base = WORK / name
    flows_dir, conn_dir = base / "flows", base / "connections"
    for d in (flows_dir, conn_dir):
        d.mkdir(parents=True, exist_ok=True)
        for old in d.glob("*.json"):
            old.unlink()
    (conn_dir / f"{PROFILE}.json").write_text(json.dumps(connection_doc(), indent=2))
    for doc in flows:
        (flows_dir / f"{doc['flowName']}.json").write_text(json.dumps(doc, indent=2))
    return flows_dir, conn_dir


def project_env(url: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a project child needs: the connection's secret references, resolved by env."""
    env = dict(os.environ)
    env[URL_VAR] = url
    env[TOKEN_VAR] = REFRESH_TOKEN
    env[CLIENT_VAR] = json.dumps({"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET})
    env.update(extra or {})
    return env
