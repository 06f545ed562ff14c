"""S3 through moto's server on 127.0.0.1 (``moto_server`` in tests/conftest.py)."""

import uuid
from collections.abc import Callable
from typing import Any

import boto3
import pytest


@pytest.fixture
def s3_client_factory(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Callable[[], Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return lambda: boto3.client("s3", endpoint_url=moto_server, region_name="us-east-1")


@pytest.fixture
def s3_bucket(s3_client_factory: Callable[[], Any]) -> str:
    """A fresh, empty bucket."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    s3_client_factory().create_bucket(Bucket=name)
    return name
