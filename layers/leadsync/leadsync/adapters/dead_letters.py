"""The dead-letter queue: what could not be written, with everything needed to understand it.

A dead letter's body is the message as the upload last saw it: a SyncBatch whose `failures`
hold each failed attempt (code, message, request, time), so the queue's own redrive back to
the sync queue replays it as it is. A body that is not a valid batch (a broken message) is
kept byte for byte, with the reason in its message attributes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pydantic import ValidationError

from leadsync.adapters import aws
from leadsync.adapters.aws import AWS_ERRORS
from leadsync.adapters.queue import delete_messages, receive_messages, translate_error
from leadsync.sync.messages import SyncBatch

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageAttributeValueTypeDef

# message attributes a dead letter may carry (SQS allows 10 per message)
ERROR_CODE = "error_code"
ERROR_MESSAGE = "error_message"
CORRELATION_ID = "correlation_id"
ATTEMPTS = "attempts"
FIRST_FAILURE_AT = "first_failure_at"
LAST_FAILURE_AT = "last_failure_at"
_ATTRIBUTE_TEXT = 1000


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    receipt_handle: str
    body: str
    attributes: dict[str, str] = field(default_factory=dict)
    sent_at: datetime | None = None  # when it reached this queue (or was first sent)
    receive_count: int = 0

    @property
    def batch(self) -> SyncBatch | None:
        """The batch the body holds, or None when the body is not a valid batch."""
        try:
            return SyncBatch.model_validate_json(self.body)
        except ValidationError:
            return None

    @property
    def code(self) -> str:
        """The cause: the last failure the batch recorded, else the attribute, else unknown."""
        batch = self.batch
        if batch is not None and batch.failures:
            return batch.failures[-1].code
        return self.attributes.get(ERROR_CODE, "unknown")


class DeadLetters:
    def __init__(self, queue_url: str, client: SQSClient | None = None) -> None:
        self._url = queue_url
        self._client = client or aws.sqs()

    def send(self, body: str, attributes: Mapping[str, str]) -> str:
        """Put one dead letter; returns its message id."""
        try:
            answer = self._client.send_message(
                QueueUrl=self._url,
                MessageBody=body,
                MessageAttributes=_attributes(attributes),
            )
        except AWS_ERRORS as exc:
            raise translate_error(exc, "SendMessage") from exc
        return answer.get("MessageId", "")

    def send_batch(self, batch: SyncBatch) -> str:
        last = batch.failures[-1] if batch.failures else None
        attributes = {CORRELATION_ID: batch.correlation_id, ATTEMPTS: str(batch.attempts)}
        if last is not None:
            attributes[ERROR_CODE] = last.code
            attributes[ERROR_MESSAGE] = last.message
            attributes[LAST_FAILURE_AT] = last.at.isoformat()
            attributes[FIRST_FAILURE_AT] = batch.failures[0].at.isoformat()
        return self.send(batch.model_dump_json(), attributes)

    def receive(
        self, limit: int = 10, *, visibility_seconds: int = 60, wait_seconds: int = 1
    ) -> list[DeadLetter]:
        """Take up to `limit` dead letters out of sight for `visibility_seconds`.

        A long poll (`wait_seconds` > 0) asks every SQS server, so an empty answer means
        no letter is visible; a short poll samples some servers and may miss them."""
        out: list[DeadLetter] = []
        messages = receive_messages(
            self._client,
            self._url,
            limit,
            VisibilityTimeout=visibility_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            WaitTimeSeconds=wait_seconds,
        )
        for message in messages:
            attrs = message.get("Attributes", {})
            sent = attrs.get("SentTimestamp")
            out.append(
                DeadLetter(
                    message_id=message.get("MessageId", ""),
                    receipt_handle=message.get("ReceiptHandle", ""),
                    body=message.get("Body", ""),
                    attributes={
                        name: value.get("StringValue", "")
                        for name, value in message.get("MessageAttributes", {}).items()
                    },
                    sent_at=datetime.fromtimestamp(int(sent) / 1000, UTC) if sent else None,
                    receive_count=int(attrs.get("ApproximateReceiveCount", "0")),
                )
            )
        return out

    def peek(self, limit: int = 100) -> list[DeadLetter]:
        """Read up to `limit` dead letters and make them visible again at once."""
        letters = self.receive(limit, visibility_seconds=30)
        self.release(letters)
        return letters

    def release(self, letters: Sequence[DeadLetter]) -> None:
        """Make received dead letters visible again, untouched."""
        for start in range(0, len(letters), 10):
            chunk = letters[start : start + 10]
            try:
                self._client.change_message_visibility_batch(
                    QueueUrl=self._url,
                    Entries=[
                        {
                            "Id": str(i),
                            "ReceiptHandle": letter.receipt_handle,
                            "VisibilityTimeout": 0,
                        }
                        for i, letter in enumerate(chunk)
                    ],
                )
            except AWS_ERRORS as exc:
                raise translate_error(exc, "ChangeMessageVisibilityBatch") from exc

    def delete(self, letters: Sequence[DeadLetter]) -> None:
        delete_messages(self._client, self._url, [letter.receipt_handle for letter in letters])


def _attributes(values: Mapping[str, str]) -> dict[str, MessageAttributeValueTypeDef]:
    return {
        name: {"DataType": "String", "StringValue": value[:_ATTRIBUTE_TEXT]}
        for name, value in values.items()
        if value
    }
