from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from leadsync.adapters.queue import SqsQueue
from leadsync.errors import DependencyError, PermanentError
from leadsync.models import Visitor
from leadsync.sync.messages import SyncBatch
from tests.support.records import record_for

pytestmark = pytest.mark.integration


def _batch(index: int) -> SyncBatch:
    visitor = Visitor(email=f"v{index}@example.com", chat_ids=[f"C{index}"])
    return SyncBatch(
        correlation_id=f"corr-{index}",
        created_at=datetime(2026, 1, 15, tzinfo=UTC),
        records=[record_for(visitor)],
    )


def _drain(url: str) -> list[dict[str, Any]]:
    client = boto3.client("sqs")
    bodies: list[dict[str, Any]] = []
    while True:
        answer = client.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        )
        messages = answer.get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            body = json.loads(message["Body"])
            assert (
                message["MessageAttributes"]["correlation_id"]["StringValue"]
                == body["correlation_id"]
            )
            bodies.append(body)


def test_every_batch_arrives_once(queues: dict[str, str]) -> None:
    queue = SqsQueue(queues["sync"])
    assert queue.send_batches([_batch(i) for i in range(23)]) == 23
    received = _drain(queues["sync"])
    assert sorted(b["correlation_id"] for b in received) == sorted(f"corr-{i}" for i in range(23))


def test_dead_letter_depth(queues: dict[str, str]) -> None:
    dlq = SqsQueue(queues["dlq"])
    assert dlq.approximate_depth() == 0
    boto3.client("sqs").send_message(QueueUrl=queues["dlq"], MessageBody="poison")
    assert dlq.approximate_depth() == 1


def test_a_missing_queue_is_not_retryable(moto_server: str) -> None:
    url = moto_server + "/123456789012/no-such-queue"
    with pytest.raises(DependencyError) as caught:
        SqsQueue(url).send_batches([_batch(1)])
    assert not caught.value.retryable


class FlakyClient:
    """Fails the first entry of the first call, as SQS does under partial failure."""

    def __init__(self, sender_fault: bool = False) -> None:
        self.calls: list[list[str]] = []
        self.sender_fault = sender_fault

    def send_message_batch(self, QueueUrl: str, Entries: list[Any]) -> dict[str, Any]:
        ids = [entry["Id"] for entry in Entries]
        self.calls.append(ids)
        if len(self.calls) == 1:
            return {
                "Successful": [{"Id": i} for i in ids[1:]],
                "Failed": [
                    {"Id": ids[0], "Code": "InternalError", "SenderFault": self.sender_fault}
                ],
            }
        return {"Successful": [{"Id": i} for i in ids], "Failed": []}


def test_failed_entries_are_retried_alone() -> None:
    client = FlakyClient()
    waits: list[float] = []
    queue = SqsQueue("https://sqs.example/q", client, sleep=waits.append)  # type: ignore[arg-type]
    assert queue.send_batches([_batch(i) for i in range(3)]) == 3
    assert client.calls == [["0", "1", "2"], ["0"]]
    assert len(waits) == 1


def test_sender_faults_are_permanent() -> None:
    queue = SqsQueue(
        "https://sqs.example/q",
        FlakyClient(sender_fault=True),  # type: ignore[arg-type]
        sleep=lambda _: None,
    )
    with pytest.raises(PermanentError):
        queue.send_batches([_batch(1)])
