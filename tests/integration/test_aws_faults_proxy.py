"""The fault proxy in front of moto: boto3 works through it for every service the stack uses,
each call is named by service and operation, the control routes steer it, and it runs as
a process the local world can start."""

from __future__ import annotations

import http.client
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from local.aws_faults import PROTECTED, FaultKey, FaultProxy
from local.moto_server import SES_MESSAGES_PATH
from local.processes import ServerProcess

pytestmark = pytest.mark.integration

REGION = "us-east-1"
ROOT = Path(__file__).resolve().parents[2]
SENDER = "digest@leadsync.example"
# every call counted under its name: a zero-delay latency fault on everything
NAME_EVERY_CALL = {
    "faults": [
        {"service": service, "kind": "latency", "probability": 1.0, "max_ms": 0}
        for service in ["*", *sorted(PROTECTED)]
    ]
}


def _client(service: str, url: str) -> Any:
    config = Config(retries={"mode": "standard", "total_max_attempts": 1})
    return boto3.client(service, endpoint_url=url, region_name=REGION, config=config)  # type: ignore[call-overload]


def _http(url: str, method: str = "GET", document: Any = None) -> tuple[int, Any]:
    answer = requests.request(method, url, json=document, timeout=10)
    return answer.status_code, answer.json()


@pytest.fixture
def proxy(moto_server: str) -> Iterator[FaultProxy]:
    with FaultProxy(moto_server, NAME_EVERY_CALL, seed=1) as running:
        yield running


def test_every_service_works_through_the_proxy_and_each_call_is_named(proxy: FaultProxy) -> None:
    suffix = uuid.uuid4().hex[:10]
    url = proxy.url

    dynamodb = _client("dynamodb", url)
    table = f"t-{suffix}"
    dynamodb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "a"}, "n": {"N": "1"}})
    assert dynamodb.get_item(TableName=table, Key={"pk": {"S": "a"}})["Item"]["n"] == {"N": "1"}

    sqs = _client("sqs", url)
    queue = sqs.create_queue(QueueName=f"q-{suffix}")["QueueUrl"]
    assert queue.startswith(url), "moto saw the Host the client signed"
    sqs.send_message(QueueUrl=queue, MessageBody="héllo")
    (message,) = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0)["Messages"]
    assert message["Body"] == "héllo"
    sqs.delete_message_batch(
        QueueUrl=queue, Entries=[{"Id": "1", "ReceiptHandle": message["ReceiptHandle"]}]
    )

    s3 = _client("s3", url)
    bucket = f"b-{suffix}"
    s3.create_bucket(Bucket=bucket)
    staged = bytes(range(256)) * 8192  # 2 MiB, sent with Expect: 100-continue
    s3.put_object(Bucket=bucket, Key="staged/a b.json.gz", Body=staged)
    assert s3.head_object(Bucket=bucket, Key="staged/a b.json.gz")["ContentLength"] == len(staged)
    assert s3.get_object(Bucket=bucket, Key="staged/a b.json.gz")["Body"].read() == staged
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == [
        "staged/a b.json.gz"
    ]
    s3.delete_object(Bucket=bucket, Key="staged/a b.json.gz")

    sesv2 = _client("sesv2", url)
    sesv2.create_email_identity(EmailIdentity=SENDER)
    assert sesv2.get_email_identity(EmailIdentity=SENDER)["IdentityType"] == "EMAIL_ADDRESS"
    sesv2.send_email(
        FromEmailAddress=SENDER,
        Destination={"ToAddresses": ["admin@leadsync.example"]},
        Content={"Simple": {"Subject": {"Data": "digest"}, "Body": {"Text": {"Data": "ok"}}}},
    )
    ses = _client("ses", url)
    ses.verify_email_identity(EmailAddress=SENDER)
    ses.send_email(
        Source=SENDER,
        Destination={"ToAddresses": ["admin@leadsync.example"]},
        Message={"Subject": {"Data": "digest"}, "Body": {"Text": {"Data": "ok"}}},
    )

    secrets = _client("secretsmanager", url)
    secrets.create_secret(Name=f"s-{suffix}", SecretString='{"token": "t"}')
    assert secrets.get_secret_value(SecretId=f"s-{suffix}")["SecretString"] == '{"token": "t"}'

    assert isinstance(_client("lambda", url).list_functions()["Functions"], list)
    assert isinstance(_client("cloudformation", url).describe_stacks()["Stacks"], list)
    assert _client("sts", url).get_caller_identity()["Account"]

    named = {(key.service, key.operation) for key in proxy.counts()}
    assert named == {
        ("dynamodb", "CreateTable"),
        ("dynamodb", "PutItem"),
        ("dynamodb", "GetItem"),
        ("sqs", "CreateQueue"),
        ("sqs", "SendMessage"),
        ("sqs", "ReceiveMessage"),
        ("sqs", "DeleteMessageBatch"),
        ("s3", "CreateBucket"),
        ("s3", "PutObject"),
        ("s3", "HeadObject"),
        ("s3", "GetObject"),
        ("s3", "ListObjectsV2"),
        ("s3", "DeleteObject"),
        ("sesv2", "CreateEmailIdentity"),
        ("sesv2", "GetEmailIdentity"),
        ("sesv2", "SendEmail"),
        ("ses", "VerifyEmailIdentity"),
        ("ses", "SendEmail"),
        ("secretsmanager", "CreateSecret"),
        ("secretsmanager", "GetSecretValue"),
        ("lambda", "ListFunctions"),
        ("cloudformation", "DescribeStacks"),
        ("sts", "GetCallerIdentity"),
    }


def test_moto_routes_of_its_own_pass_untouched(moto_server: str) -> None:
    everything = {"faults": [{"kind": "server_error", "probability": 1.0}]}
    with FaultProxy(moto_server, everything) as proxy:
        answer = requests.get(proxy.url + SES_MESSAGES_PATH, timeout=10)
        assert answer.status_code == 200
        assert isinstance(answer.json(), list)
        assert proxy.counts() == {}


def test_latency_delays_the_call(moto_server: str) -> None:
    slow = {
        "faults": [
            {
                "service": "dynamodb",
                "kind": "latency",
                "probability": 1.0,
                "min_ms": 150,
                "max_ms": 150,
            }
        ]
    }
    with FaultProxy(moto_server, slow) as proxy:
        dynamodb = _client("dynamodb", proxy.url)
        started = time.monotonic()
        dynamodb.list_tables()
        assert time.monotonic() - started >= 0.15
        assert proxy.counts() == {FaultKey("dynamodb", "ListTables", "latency"): 1}


def test_the_control_routes_read_and_steer_the_faults(moto_server: str) -> None:
    with FaultProxy(moto_server, seed=5) as proxy:
        control = proxy.url + "/_faults"
        assert _http(control) == (
            200,
            {
                "enabled": True,
                "faults": [],
                "seed": 5,
                "requests": {},
                "injected_total": 0,
                "injected": [],
            },
        )
        throttle = {"faults": [{"service": "dynamodb", "kind": "throttling", "probability": 1.0}]}
        status, state = _http(control, "POST", throttle)
        assert status == 200
        assert state["faults"][0]["kind"] == "throttling"
        dynamodb = _client("dynamodb", proxy.url)
        with pytest.raises(dynamodb.exceptions.ProvisionedThroughputExceededException):
            dynamodb.list_tables()

        assert _http(control, "POST", {"enabled": False})[0] == 200
        dynamodb.list_tables()  # the harness reads the world cleanly
        status, state = _http(control)
        assert state["enabled"] is False
        assert state["requests"] == {"dynamodb": 2}
        assert state["injected"] == [
            {
                "service": "dynamodb",
                "operation": "ListTables",
                "kind": "ProvisionedThroughputExceededException",
                "count": 1,
            }
        ]

        status, refused = _http(
            control, "POST", {"faults": [{"kind": "nonsense", "probability": 1}]}
        )
        assert status == 400
        assert "nonsense" in refused["error"]
        assert _http(control, "POST", [1])[0] == 400
        assert _http(control + "/other")[0] == 404
        assert _http(control, "DELETE")[0] == 405


def test_it_runs_as_a_process_the_world_can_start(moto_server: str, tmp_path: Path) -> None:
    config = tmp_path / "faults.json"
    config.write_text(
        json.dumps(
            {
                "faults": [
                    {"service": "sqs", "kind": "RequestThrottled", "probability": 1, "times": 1}
                ]
            }
        )
    )
    args = [
        "-m",
        "local.aws_faults",
        "--target",
        moto_server,
        "--port",
        "0",
        "--config",
        str(config),
        "--seed",
        "3",
    ]
    log = tmp_path / "aws-faults.log"
    server = ServerProcess("aws-faults", args, log, ROOT)
    try:
        sqs = _client("sqs", server.url)
        with pytest.raises(ClientError, match="RequestThrottled"):
            sqs.list_queues()
        sqs.list_queues()
        status, state = _http(server.url + "/_faults")
        assert (status, state["seed"], state["injected_total"]) == (200, 3, 1)
    finally:
        server.stop()
    written = log.read_text()
    assert "aws-faults: sqs ListQueues answered RequestThrottled" in written
    assert '"kind": "RequestThrottled", "count": 1' in written


def test_a_chunked_body_reaches_moto_as_sent(moto_server: str) -> None:
    bucket = f"chunked-{uuid.uuid4().hex[:10]}"
    _client("s3", moto_server).create_bucket(Bucket=bucket)
    signed = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/s3/aws4_request, Signature=0"
    with FaultProxy(moto_server, NAME_EVERY_CALL) as proxy:
        connection = http.client.HTTPConnection(proxy.url.removeprefix("http://"), timeout=10)
        connection.request(
            "PUT",
            f"/{bucket}/staged/parts.txt",
            body=iter([b"one ", b"two ", b"three"]),
            headers={"Authorization": signed, "x-amz-content-sha256": "UNSIGNED-PAYLOAD"},
            encode_chunked=True,
        )
        assert connection.getresponse().status == 200
        connection.close()
        assert proxy.counts() == {FaultKey("s3", "PutObject", "latency"): 1}
    stored = _client("s3", moto_server).get_object(Bucket=bucket, Key="staged/parts.txt")
    assert stored["Body"].read() == b"one two three"
