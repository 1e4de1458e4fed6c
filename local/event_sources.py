"""EventBridge schedules and the SQS event source mapping, driven as AWS drives them."""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from local.lambda_runtime import FunctionPool, InvocationError


def scheduled_event(rule_arn: str, region: str, account: str, when: datetime) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    records = []
    for message in messages:
        body = message["Body"]
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": body,
                "attributes": message.get("Attributes", {}),
                "messageAttributes": {
                    name: {
                        "stringValue": value.get("StringValue"),
                        "binaryValue": value.get("BinaryValue"),
                        "stringListValues": [],
                        "binaryListValues": [],
                        "dataType": value["DataType"],
                    }
                    for name, value in message.get("MessageAttributes", {}).items()
                },
                "md5OfBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
        )
    return {"Records": records}


def quiet_emulated_event_sources(lam: Any, function_name: str) -> None:
    """moto delivers SQS messages to Lambda itself: on every SendMessage it receives one
    for the function, cannot run it (that needs Docker) and makes it visible again. Each
    such receive counts towards the redrive policy although no function saw the message,
    so a message sent before five others went to the dead-letter queue unprocessed. The
    local world is the event source mapping (`SqsPoller`, which reads the mapping's
    configuration), so moto's own delivery is switched off."""
    mappings = lam.list_event_source_mappings(FunctionName=function_name)
    for mapping in mappings["EventSourceMappings"]:
        if mapping.get("State") != "Disabled":
            lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)


@dataclass
class DrainReport:
    invocations: int = 0
    messages: int = 0
    deleted: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: DrainReport) -> None:
        self.invocations += other.invocations
        self.messages += other.messages
        self.deleted += other.deleted
        self.failed += other.failed
        self.errors.extend(other.errors)


class SqsPoller:
    """The SQS event source mapping: batches of BatchSize, at most MaximumConcurrency at once,
    successes deleted, reported failures left for redelivery (and redrive to the DLQ)."""

    def __init__(self, sqs: Any, mapping: dict[str, Any], pool: FunctionPool, region: str) -> None:
        self._sqs = sqs
        self._pool = pool
        self._region = region
        self.queue_arn: str = mapping["EventSourceArn"]
        self.batch_size = int(mapping.get("BatchSize", 10))
        self.concurrency = int((mapping.get("ScalingConfig") or {}).get("MaximumConcurrency", 1000))
        self.partial = "ReportBatchItemFailures" in (mapping.get("FunctionResponseTypes") or [])
        name = self.queue_arn.rsplit(":", 1)[-1]
        self.queue_url: str = sqs.get_queue_url(QueueName=name)["QueueUrl"]

    def _receive(self, wait_seconds: int = 0) -> list[dict[str, Any]]:
        answer = self._sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(10, self.batch_size),
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=wait_seconds,
        )
        messages: list[dict[str, Any]] = answer.get("Messages", [])
        return messages

    def _deliver(self, messages: list[dict[str, Any]]) -> DrainReport:
        event = sqs_event(messages, self.queue_arn, self._region)
        failed_ids: set[str] = set()
        report = DrainReport(invocations=1, messages=len(messages))
        try:
            result = self._pool.invoke(event).result
            if self.partial and isinstance(result, dict):
                failed_ids = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
        except InvocationError as exc:
            failed_ids = {m["MessageId"] for m in messages}
            report.errors.append(str(exc))
        done = [m for m in messages if m["MessageId"] not in failed_ids]
        if done:
            self._sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)
                ],
            )
        report.deleted = len(done)
        report.failed = len(failed_ids)
        return report

    def _poll_until_empty(self) -> DrainReport:
        total = DrainReport()
        while messages := self._receive():
            total.add(self._deliver(messages))
        return total

    def _counts(self) -> tuple[int, int, int]:
        """(visible, delayed, in flight): in flight are received and neither deleted nor
        visible again yet, such as those an invocation that failed or died left behind."""
        attributes = self._sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesDelayed",
                "ApproximateNumberOfMessagesNotVisible",
            ],
        )["Attributes"]
        return (
            int(attributes.get("ApproximateNumberOfMessages", "0")),
            int(attributes.get("ApproximateNumberOfMessagesDelayed", "0")),
            int(attributes.get("ApproximateNumberOfMessagesNotVisible", "0")),
        )

    def drain(
        self, *, delayed_deadline_s: float = 960.0, wait_in_flight: bool = False
    ) -> DrainReport:
        """Deliver until no message is visible or delayed (work the function sent back with a
        delay comes round again), with at most MaximumConcurrency pollers. Messages a failure
        left invisible come round after their visibility timeout: with `wait_in_flight` they
        are waited for too, else not. Every wait ends at the deadline."""
        total = DrainReport()
        deadline = time.monotonic() + delayed_deadline_s
        while True:
            with ThreadPoolExecutor(max_workers=self.concurrency) as executor:
                for report in executor.map(
                    lambda _: self._poll_until_empty(), range(self.concurrency)
                ):
                    total.add(report)
            if not self._waiting(wait_in_flight) or time.monotonic() > deadline:
                return total
            while time.monotonic() < deadline:
                visible, delayed, in_flight = self._counts()
                if visible or not (delayed or (wait_in_flight and in_flight)):
                    break
                time.sleep(0.25)  # polling the queue's counters, bounded by the deadline

    def _waiting(self, wait_in_flight: bool) -> int:
        visible, delayed, in_flight = self._counts()
        return visible + delayed + (in_flight if wait_in_flight else 0)


class ListeningSource:
    """The event source mapping left running, as Lambda's is: MaximumConcurrency pollers
    long-poll the queue (1 s) and deliver what arrives until `stop()`."""

    def __init__(self, poller: SqsPoller) -> None:
        self._poller = poller
        self._stop = threading.Event()
        self.report = DrainReport()
        self.seconds: list[float] = []  # how long each delivery took, invocation included
        self._lock = threading.Lock()
        self._threads = [
            threading.Thread(target=self._run, daemon=True, name=f"esm-{n}")
            for n in range(poller.concurrency)
        ]

    def start(self) -> ListeningSource:
        for thread in self._threads:
            thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                messages = self._poller._receive(wait_seconds=1)
                if messages:
                    started = time.monotonic()
                    delivered = self._poller._deliver(messages)
                    with self._lock:
                        self.report.add(delivered)
                        self.seconds.append(time.monotonic() - started)
            except Exception as exc:  # the emulated service went away: stop quietly
                if not self._stop.is_set():
                    with self._lock:
                        self.report.errors.append(f"{type(exc).__name__}: {exc}")

    def stop(self) -> DrainReport:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        return self.report
