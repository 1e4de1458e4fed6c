"""Through the fault proxy in front of moto, boto3 meets each AWS error as AWS sends it: the
right code with retries off, a success when standard retries outlast the fault, and a call
that is applied only when the fault says it came after."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.retries import standard

from local.aws_faults import FaultKey, FaultProxy
from local.aws_faults.wire import CATALOG

pytestmark = pytest.mark.integration

REGION = "us-east-1"
SENDER = "digest@leadsync.example"


def _client(service: str, url: str, attempts: int = 1) -> Any:
    config = Config(retries={"mode": "standard", "total_max_attempts": attempts})
    return boto3.client(service, endpoint_url=url, region_name=REGION, config=config)  # type: ignore[call-overload]


@dataclass(frozen=True)
class World:
    """What the calls below need, made on moto directly (never through a proxy)."""

    moto: str
    table: str
    queue: str
    bucket: str
    secret: str


@pytest.fixture(scope="module")
def world(moto_server: str) -> World:
    suffix = uuid.uuid4().hex[:10]
    table, queue, bucket, secret = (f"{name}-{suffix}" for name in ("t", "q", "b", "s"))
    _client("dynamodb", moto_server).create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    queue_url = _client("sqs", moto_server).create_queue(QueueName=queue)["QueueUrl"]
    _client("s3", moto_server).create_bucket(Bucket=bucket)
    _client("s3", moto_server).put_object(Bucket=bucket, Key="staged/a.json", Body=b"{}")
    _client("sesv2", moto_server).create_email_identity(EmailIdentity=SENDER)
    _client("ses", moto_server).verify_email_identity(EmailAddress=SENDER)
    _client("secretsmanager", moto_server).create_secret(Name=secret, SecretString="{}")
    return World(moto_server, table, queue_url, bucket, secret)


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry at once: whether botocore retries is under test here, not how long it waits."""
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda *_: 0.0)


def _put_item(client: Any, world: World) -> Any:
    return client.put_item(TableName=world.table, Item={"pk": {"S": uuid.uuid4().hex}})


def _send_message(client: Any, world: World) -> Any:
    return client.send_message(QueueUrl=world.queue, MessageBody="x")


def _put_object(client: Any, world: World) -> Any:
    return client.put_object(Bucket=world.bucket, Key="staged/b.json", Body=b"{}")


def _send_email_v2(client: Any, world: World) -> Any:
    return client.send_email(
        FromEmailAddress=SENDER,
        Destination={"ToAddresses": ["admin@leadsync.example"]},
        Content={"Simple": {"Subject": {"Data": "digest"}, "Body": {"Text": {"Data": "ok"}}}},
    )


def _send_email_v1(client: Any, world: World) -> Any:
    return client.send_email(
        Source=SENDER,
        Destination={"ToAddresses": ["admin@leadsync.example"]},
        Message={"Subject": {"Data": "digest"}, "Body": {"Text": {"Data": "ok"}}},
    )


def _get_secret(client: Any, world: World) -> Any:
    return client.get_secret_value(SecretId=world.secret)


Call = Callable[[Any, World], Any]
CALLS: dict[str, tuple[str, Call]] = {
    "dynamodb": ("PutItem", _put_item),
    "sqs": ("SendMessage", _send_message),
    "s3": ("PutObject", _put_object),
    "sesv2": ("SendEmail", _send_email_v2),
    "ses": ("SendEmail", _send_email_v1),
    "secretsmanager": ("GetSecretValue", _get_secret),
}
ERRORS = [(service, code) for service, errors in CATALOG.items() for code in errors]


@pytest.fixture
def proxy_for(world: World) -> Iterator[Callable[[dict[str, Any]], FaultProxy]]:
    proxies: list[FaultProxy] = []

    def start(rule: dict[str, Any]) -> FaultProxy:
        proxy = FaultProxy(world.moto, {"faults": [rule]}, seed=1).start()
        proxies.append(proxy)
        return proxy

    yield start
    for proxy in proxies:
        proxy.stop()


@pytest.mark.parametrize(("service", "code"), ERRORS, ids=[f"{s}.{c}" for s, c in ERRORS])
def test_boto3_sees_the_code_aws_sends(
    service: str, code: str, world: World, proxy_for: Callable[[dict[str, Any]], FaultProxy]
) -> None:
    operation, call = CALLS[service]
    proxy = proxy_for({"service": service, "kind": code, "probability": 1.0})
    with pytest.raises(ClientError) as raised:
        call(_client(service, proxy.url), world)
    error = raised.value.response["Error"]
    assert error["Code"] == code
    assert (
        raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == CATALOG[service][code].status
    )
    assert proxy.counts() == {FaultKey(service, operation, code): 1}


@pytest.mark.parametrize(("service", "code"), ERRORS, ids=[f"{s}.{c}" for s, c in ERRORS])
def test_standard_retries_outlast_two_faults(
    service: str, code: str, world: World, proxy_for: Callable[[dict[str, Any]], FaultProxy]
) -> None:
    operation, call = CALLS[service]
    proxy = proxy_for({"service": service, "kind": code, "probability": 1.0, "times": 2})
    answer = call(_client(service, proxy.url, attempts=3), world)
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert answer["ResponseMetadata"]["RetryAttempts"] == 2
    assert proxy.counts() == {FaultKey(service, operation, code): 2}


def test_sqs_throttling_is_the_modeled_exception_on_every_message_call(
    world: World, proxy_for: Callable[[dict[str, Any]], FaultProxy]
) -> None:
    proxy = proxy_for({"service": "sqs", "kind": "throttling", "probability": 1.0})
    sqs = _client("sqs", proxy.url)
    calls: list[Callable[[], Any]] = [
        lambda: sqs.send_message_batch(
            QueueUrl=world.queue, Entries=[{"Id": "1", "MessageBody": "x"}]
        ),
        lambda: sqs.receive_message(QueueUrl=world.queue, WaitTimeSeconds=0),
        lambda: sqs.delete_message_batch(
            QueueUrl=world.queue, Entries=[{"Id": "1", "ReceiptHandle": "r"}]
        ),
        lambda: sqs.change_message_visibility(
            QueueUrl=world.queue, ReceiptHandle="r", VisibilityTimeout=0
        ),
    ]
    for request in calls:
        with pytest.raises(sqs.exceptions.RequestThrottled):
            request()
    assert {key.operation for key in proxy.counts()} == {
        "SendMessageBatch",
        "ReceiveMessage",
        "DeleteMessageBatch",
        "ChangeMessageVisibility",
    }


def _messages(world: World) -> list[dict[str, Any]]:
    sqs = _client("sqs", world.moto)
    answer = sqs.receive_message(QueueUrl=world.queue, MaxNumberOfMessages=10, WaitTimeSeconds=0)
    for message in answer.get("Messages", []):
        sqs.delete_message(QueueUrl=world.queue, ReceiptHandle=message["ReceiptHandle"])
    return list(answer.get("Messages", []))


def test_a_fault_before_the_call_leaves_it_unapplied(
    world: World, proxy_for: Callable[[dict[str, Any]], FaultProxy]
) -> None:
    _messages(world)
    proxy = proxy_for({"service": "*", "kind": "server_error", "probability": 1.0})
    with pytest.raises(ClientError, match="InternalFailure"):
        _client("sqs", proxy.url).send_message(QueueUrl=world.queue, MessageBody="lost")
    key = {"pk": {"S": uuid.uuid4().hex}}
    with pytest.raises(ClientError, match="InternalServerError"):
        _client("dynamodb", proxy.url).put_item(TableName=world.table, Item=key)
    assert _messages(world) == []
    assert "Item" not in _client("dynamodb", world.moto).get_item(TableName=world.table, Key=key)


def test_a_fault_after_the_call_applies_it_and_answers_the_5xx(
    world: World, proxy_for: Callable[[dict[str, Any]], FaultProxy]
) -> None:
    _messages(world)
    proxy = proxy_for({"service": "*", "kind": "server_error", "probability": 1.0, "after": True})
    with pytest.raises(ClientError, match="InternalFailure"):
        _client("sqs", proxy.url).send_message(QueueUrl=world.queue, MessageBody="applied")
    key = {"pk": {"S": uuid.uuid4().hex}}
    with pytest.raises(ClientError, match="InternalServerError"):
        _client("dynamodb", proxy.url).put_item(TableName=world.table, Item=key)
    assert [message["Body"] for message in _messages(world)] == ["applied"]
    assert "Item" in _client("dynamodb", world.moto).get_item(TableName=world.table, Key=key)
    assert proxy.counts() == {
        FaultKey("sqs", "SendMessage", "InternalFailure:applied"): 1,
        FaultKey("dynamodb", "PutItem", "InternalServerError:applied"): 1,
    }
