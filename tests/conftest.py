"""Fixtures shared by every suite: moto in server mode and resources built from template.yaml."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.handlers import forget_cached_clients
from tests.support.lambda_context import FakeLambdaContext
from tests.support.template import create_queue_from_template, create_table_from_template

REGION = "us-east-1"


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto on loopback, the same server the local world runs; AWS_ENDPOINT_URL, region and
    fake credentials point everything at it."""
    from local.processes import ServerProcess

    log = tmp_path_factory.mktemp("moto") / "moto.log"
    root = Path(__file__).resolve().parents[1]
    server = ServerProcess("moto", ["-m", "local.moto_server"], log, root)
    url = server.url
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL", url)
        patch.setenv("AWS_DEFAULT_REGION", REGION)
        patch.setenv("AWS_REGION", REGION)
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_SECURITY_TOKEN"):
            patch.delenv(name, raising=False)
        forget_cached_clients()
        try:
            yield url
        finally:
            server.stop()
            forget_cached_clients()


def _client(service: str) -> Any:
    import boto3

    return boto3.client(service, region_name=REGION)  # type: ignore[call-overload]


@pytest.fixture
def state_table(moto_server: str) -> Iterator[str]:
    """A fresh state table, created from template.yaml's StateTable; yields its name."""
    name = f"state-{uuid.uuid4().hex[:12]}"
    client = _client("dynamodb")
    create_table_from_template(client, name)
    try:
        yield name
    finally:
        client.delete_table(TableName=name)


@pytest.fixture
def queues(moto_server: str) -> Iterator[dict[str, str]]:
    """SyncQueue and its DeadLetterQueue as the template defines them: {"sync": url, "dlq": url}."""
    client = _client("sqs")
    suffix = uuid.uuid4().hex[:12]
    dlq = create_queue_from_template(client, f"dlq-{suffix}", "DeadLetterQueue")
    dlq_arn = client.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sync = create_queue_from_template(client, f"sync-{suffix}", "SyncQueue", dlq_arn)
    try:
        yield {"sync": sync, "dlq": dlq}
    finally:
        client.delete_queue(QueueUrl=sync)
        client.delete_queue(QueueUrl=dlq)


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()
