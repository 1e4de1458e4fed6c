"""SQS: sending batches (every one acknowledged, or an exception) and reading queue depth."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from itertools import batched
from typing import TYPE_CHECKING, Any

from leadsync.adapters import aws
from leadsync.adapters.aws import AWS_ERRORS
from leadsync.errors import DependencyError, PermanentError
from leadsync.sync.fetch.batching import SQS_MAX_MESSAGE_BYTES
from leadsync.sync.messages import SQS_MAX_DELAY_SECONDS, SyncBatch

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import (
        DeleteMessageBatchRequestEntryTypeDef,
        MessageTypeDef,
        SendMessageBatchRequestEntryTypeDef,
    )

MAX_ENTRIES_PER_CALL = 10
MAX_BYTES_PER_CALL = SQS_MAX_MESSAGE_BYTES
MAX_ATTEMPTS = 4
BACKOFF_SECONDS = 0.2
translate_error = aws.translator(
    "SQS",
    throttling=frozenset(
        {
            "RequestThrottled",
            "ThrottlingException",
            "KmsThrottled",
            "AWS.SimpleQueueService.RequestThrottled",
        }
    ),
    permanent=frozenset(
        {
            "AWS.SimpleQueueService.NonExistentQueue",
            "QueueDoesNotExist",
            "AccessDenied",
            "AccessDeniedException",
            "InvalidParameterValue",
            "InvalidMessageContents",
            "BatchRequestTooLong",
            "AWS.SimpleQueueService.BatchRequestTooLong",
            "TooManyEntriesInBatchRequest",
        }
    ),
)


class SqsQueue:
    def __init__(
        self,
        queue_url: str,
        client: SQSClient | None = None,
        *,
        max_attempts: int = MAX_ATTEMPTS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._url = queue_url
        self._client = client or aws.sqs()
        self._attempts = max_attempts
        self._sleep = sleep

    def send_batches(self, batches: Sequence[SyncBatch]) -> int:
        """Send every batch as one message; return how many, or raise (nothing is dropped)."""
        return self.send_messages([(b.correlation_id, b.model_dump_json()) for b in batches])

    def send_messages(self, messages: Sequence[tuple[str, str]], *, delay_seconds: int = 0) -> int:
        """Send (correlation id, body) pairs, at most 10 and 256 KiB per call."""
        for chunk in _chunks(messages):
            self._send_chunk(chunk, delay_seconds)
        return len(messages)

    def defer(self, batch: SyncBatch, delay_seconds: int) -> None:
        """Put `batch` back on the queue, invisible for `delay_seconds` (at most 900, SQS's
        limit): a new message, so waiting never counts toward the dead-letter redrive."""
        delay = max(0, min(int(delay_seconds), SQS_MAX_DELAY_SECONDS))
        self.send_messages([(batch.correlation_id, batch.model_dump_json())], delay_seconds=delay)

    def approximate_depth(self) -> int:
        """Messages waiting plus in flight (the dead-letter queue's size, for the digest)."""
        try:
            answer = self._client.get_queue_attributes(
                QueueUrl=self._url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                ],
            )
        except AWS_ERRORS as exc:
            raise translate_error(exc, "GetQueueAttributes") from exc
        attributes = answer.get("Attributes", {})
        return sum(
            int(attributes.get(name, "0"))
            for name in ("ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")
        )

    def _send_chunk(self, chunk: list[tuple[str, str]], delay_seconds: int = 0) -> None:
        pending: dict[str, SendMessageBatchRequestEntryTypeDef] = {
            str(index): {
                "Id": str(index),
                "MessageBody": body,
                "DelaySeconds": delay_seconds,
                "MessageAttributes": {
                    "correlation_id": {"DataType": "String", "StringValue": correlation_id},
                },
            }
            for index, (correlation_id, body) in enumerate(chunk)
        }
        for attempt in aws.paced_attempts(self._attempts, self._sleep, BACKOFF_SECONDS):
            try:
                answer = self._client.send_message_batch(
                    QueueUrl=self._url, Entries=list(pending.values())
                )
            except AWS_ERRORS as exc:
                error = translate_error(exc, "SendMessageBatch")
                if not error.retryable or attempt + 1 == self._attempts:
                    raise error from exc
                continue
            for done in answer.get("Successful", []):
                pending.pop(done["Id"], None)
            failed = answer.get("Failed", [])
            sender_faults = [f for f in failed if f.get("SenderFault")]
            if sender_faults:
                codes = sorted({f.get("Code", "") for f in sender_faults})
                raise PermanentError(
                    f"SQS refused {len(sender_faults)} message(s): {', '.join(codes)}"
                )
            if not pending:
                return
        raise DependencyError(
            f"SQS did not accept {len(pending)} message(s) after {self._attempts} attempts",
            dependency="sqs",
            retryable=True,
        )


def receive_messages(
    client: SQSClient, queue_url: str, limit: int, **request: Any
) -> Iterator[MessageTypeDef]:
    """Up to `limit` messages, ten a call, until the queue has none to give; `request` holds
    ReceiveMessage's other parameters."""
    taken = 0
    while taken < limit:
        try:
            answer = client.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=min(MAX_ENTRIES_PER_CALL, limit - taken),
                **request,
            )
        except AWS_ERRORS as exc:
            raise translate_error(exc, "ReceiveMessage") from exc
        messages = answer.get("Messages", [])
        if not messages:
            return
        taken += len(messages)
        yield from messages


def delete_messages(client: SQSClient, queue_url: str, receipt_handles: Sequence[str]) -> list[str]:
    """Delete received messages, ten a call; the codes of those SQS did not delete."""
    failed: list[str] = []
    for chunk in batched(receipt_handles, MAX_ENTRIES_PER_CALL, strict=False):
        entries: list[DeleteMessageBatchRequestEntryTypeDef] = [
            {"Id": str(index), "ReceiptHandle": handle} for index, handle in enumerate(chunk)
        ]
        try:
            answer = client.delete_message_batch(QueueUrl=queue_url, Entries=entries)
        except AWS_ERRORS as exc:
            raise translate_error(exc, "DeleteMessageBatch") from exc
        failed.extend(entry.get("Code", "") for entry in answer.get("Failed", []))
    return failed


def _size(correlation_id: str, body: str) -> int:
    return len(body.encode()) + len("correlation_id") + len("String") + len(correlation_id)


def _chunks(messages: Sequence[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    chunks: list[list[tuple[str, str]]] = []
    current: list[tuple[str, str]] = []
    size = 0
    for message in messages:
        message_size = _size(*message)
        if message_size > MAX_BYTES_PER_CALL:
            raise PermanentError(f"message of {message_size} bytes exceeds the SQS limit")
        if current and (
            len(current) == MAX_ENTRIES_PER_CALL or size + message_size > MAX_BYTES_PER_CALL
        ):
            chunks.append(current)
            current, size = [], 0
        current.append(message)
        size += message_size
    if current:
        chunks.append(current)
    return chunks
