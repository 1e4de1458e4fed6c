from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest

from leadsync.adapters.erasures import ErasureQueue, read_erasure_file, s3_text_reader
from leadsync.adapters.identities import IdentityStore, identity_key
from leadsync.erasure.request import ErasureSource
from leadsync.errors import ConfigurationError
from tests.support.queues import queue_depth

pytestmark = pytest.mark.integration
T0 = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def erasure_queue(moto_server: str) -> Iterator[str]:
    client = boto3.client("sqs")
    url = client.create_queue(QueueName=f"erasures-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    try:
        yield url
    finally:
        client.delete_queue(QueueUrl=url)


def test_queue_receives_requests_and_deletes_only_confirmed(erasure_queue: str) -> None:
    client = boto3.client("sqs")
    bodies = [f"user{n}@example.com" for n in range(12)]
    bodies += [json.dumps({"email": "JSON@Example.com", "reference": "GDPR-1"}), "no address"]
    for body in bodies:
        client.send_message(QueueUrl=erasure_queue, MessageBody=body)

    queue = ErasureQueue(erasure_queue, clock=lambda: T0)
    received = queue.receive(50, visibility_timeout=60)
    emails = sorted(request.email for request in received.requests)
    assert emails == sorted([*bodies[:12], "json@example.com"])
    assert {r.source for r in received.requests} == {ErasureSource.QUEUE}
    assert next(r for r in received.requests if r.email == "json@example.com").reference == (
        "GDPR-1"
    )
    assert all(r.requested_at.tzinfo is not None for r in received.requests)
    [bad] = received.bad
    assert "no address" not in bad.reason

    handles = received.receipt_handles
    assert queue.confirm(handles[:5]) == 5
    assert queue_depth(erasure_queue) == len(bodies) - 5
    # unconfirmed messages are still in flight, not received again yet
    assert queue.receive(10).requests == []


def test_queue_receive_respects_the_maximum(erasure_queue: str) -> None:
    client = boto3.client("sqs")
    for n in range(15):
        client.send_message(QueueUrl=erasure_queue, MessageBody=f"u{n}@example.com")
    received = ErasureQueue(erasure_queue).receive(11, visibility_timeout=60)
    assert len(received.erasures) == 11


def test_file_from_a_local_path(tmp_path: Path) -> None:
    path = tmp_path / "erasures.csv"
    path.write_text("email\njane@example.com\nbad@@x\n", encoding="utf-8")
    parsed = read_erasure_file(str(path), clock=lambda: T0)
    assert [r.email for r in parsed.requests] == ["jane@example.com"]
    assert parsed.requests[0].reference == "erasures.csv:2"
    assert [p.line for p in parsed.problems] == [3]
    with pytest.raises(ConfigurationError):
        read_erasure_file(str(tmp_path / "missing.txt"))
    with pytest.raises(ConfigurationError, match="reader"):
        read_erasure_file("s3://bucket/key")


def test_file_from_s3(moto_server: str) -> None:
    s3 = boto3.client("s3")
    bucket = f"erasures-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="in/jan.txt", Body=b"\xef\xbb\xbfjane@example.com\n")
    parsed = read_erasure_file(f"s3://{bucket}/in/jan.txt", read_text=s3_text_reader(s3))
    assert [r.email for r in parsed.requests] == ["jane@example.com"]
    with pytest.raises(ConfigurationError):
        read_erasure_file(f"s3://{bucket}/missing.txt", read_text=s3_text_reader(s3))


def test_identities_round_trip_in_batches(state_table: str) -> None:
    store = IdentityStore(state_table, clock=lambda: T0)
    identities = {f"cust-{n}": f"user{n}@example.com" for n in range(130)}
    assert store.put_many(identities) == 130
    remembered = store.get_many([*identities, "unknown"])
    assert remembered == identities

    item = boto3.client("dynamodb").get_item(
        TableName=state_table, Key={"pk": {"S": identity_key("cust-1")}, "sk": {"S": "email"}}
    )["Item"]
    assert item["email"]["S"] == "user1@example.com"
    assert "cust-1" not in json.dumps(item)
    assert int(item["expires_at"]["N"]) > T0.timestamp()

    store.put_many({"cust-1": "new@example.com"})
    assert store.get_many(["cust-1"]) == {"cust-1": "new@example.com"}
    assert store.delete_many(["cust-1", "cust-2", "never-seen"]) == 3
    assert store.get_many(["cust-1", "cust-2", "cust-3"]) == {"cust-3": "user3@example.com"}
