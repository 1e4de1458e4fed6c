"""Where erasure requests come from: an SQS queue, or a file in S3 or on disk.

A queue message is deleted only when the caller confirms its erasure is done: until then a
failed run leaves it to come back (and the queue's redrive to catch what never succeeds).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from leadsync.adapters import aws
from leadsync.adapters.aws import AWS_ERRORS
from leadsync.adapters.queue import delete_messages, receive_messages
from leadsync.erasure.files import ParsedFile, parse_erasure_file
from leadsync.erasure.request import ErasureRequest, ErasureSource
from leadsync.errors import ConfigurationError, DependencyError, LeadsyncError
from leadsync.mapping.sanitize import check_email
from leadsync.runtime.clock import Clock, parse_iso, utc_now

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

MAX_BODY_CHARS = 4096
_S3_PREFIX = "s3://"


@dataclass(frozen=True)
class QueuedErasure:
    request: ErasureRequest
    receipt_handle: str


@dataclass(frozen=True)
class BadMessage:
    """A message that holds no erasure request; left on the queue for its redrive."""

    message_id: str
    receipt_handle: str
    reason: str


@dataclass(frozen=True)
class Received:
    erasures: list[QueuedErasure] = field(default_factory=list)
    bad: list[BadMessage] = field(default_factory=list)

    @property
    def requests(self) -> list[ErasureRequest]:
        return [queued.request for queued in self.erasures]

    @property
    def receipt_handles(self) -> list[str]:
        return [queued.receipt_handle for queued in self.erasures]


class ErasureQueue:
    def __init__(
        self, queue_url: str, client: SQSClient | None = None, *, clock: Clock = utc_now
    ) -> None:
        self._url = queue_url
        self._client = client or aws.sqs()
        self._clock = clock

    def receive(
        self,
        max_messages: int,
        *,
        wait_seconds: int = 0,
        visibility_timeout: int | None = None,
    ) -> Received:
        """Up to `max_messages`, ten a call, until the queue has no more to give."""
        erasures: list[QueuedErasure] = []
        bad: list[BadMessage] = []
        request: dict[str, Any] = {
            "WaitTimeSeconds": wait_seconds,
            "MessageSystemAttributeNames": ["SentTimestamp"],
        }
        if visibility_timeout is not None:
            request["VisibilityTimeout"] = visibility_timeout
        for message in receive_messages(self._client, self._url, max_messages, **request):
            parsed = self._parse(message)
            if isinstance(parsed, QueuedErasure):
                erasures.append(parsed)
            else:
                bad.append(parsed)
        return Received(erasures, bad)

    def confirm(self, receipt_handles: Sequence[str]) -> int:
        """Delete the messages whose erasure is done; raise when SQS keeps any of them."""
        failed = delete_messages(self._client, self._url, receipt_handles)
        if failed:
            raise DependencyError(
                f"SQS kept {len(failed)} confirmed message(s): {', '.join(sorted(set(failed)))}",
                dependency="sqs",
                retryable=True,
            )
        return len(receipt_handles)

    def _parse(self, message: MessageTypeDef) -> QueuedErasure | BadMessage:
        message_id = message.get("MessageId", "")
        handle = message.get("ReceiptHandle", "")
        sent = _sent_at(message.get("Attributes", {}).get("SentTimestamp"))
        try:
            request = parse_message(message.get("Body", ""), message_id, sent or self._clock())
        except ValueError as exc:
            return BadMessage(message_id, handle, str(exc))
        return QueuedErasure(request, handle)


def parse_message(body: str, message_id: str, received_at: datetime) -> ErasureRequest:
    """A body that is an address, or JSON `{"email": .., "requested_at"?: .., "reference"?:
    ..}`; ValueError says why not, without the address."""
    text = body.strip()[:MAX_BODY_CHARS]
    values: dict[str, Any] = {"email": text}
    if text.startswith("{"):
        try:
            loaded = json.loads(text)
        except ValueError:
            raise ValueError("the body is not valid JSON") from None
        if not isinstance(loaded, dict):
            raise ValueError("the JSON body is not an object")
        values = loaded
    email, reason = check_email(values.get("email"))
    if email is None:
        raise ValueError(f"no e-mail to erase: {reason}")
    requested_at = received_at
    if isinstance(values.get("requested_at"), str):
        try:
            requested_at = parse_iso(values["requested_at"])
        except (ValueError, IndexError):
            raise ValueError("requested_at is not an RFC 3339 time") from None
    reference = values.get("reference")
    try:
        return ErasureRequest(
            email=email,
            source=ErasureSource.QUEUE,
            requested_at=requested_at,
            reference=reference if isinstance(reference, str) else message_id,
        )
    except ValidationError as exc:
        fields = sorted({str(error["loc"][0]) for error in exc.errors() if error["loc"]})
        raise ValueError(f"invalid request: {', '.join(fields)}") from None


def _sent_at(value: str | None) -> datetime | None:
    if value is None or not value.isdigit():
        return None
    return datetime.fromtimestamp(int(value) / 1000, tz=UTC)


# Files -----------------------------------------------------------------------------------


def read_erasure_file(
    location: str,
    *,
    read_text: Callable[[str], str] | None = None,
    clock: Clock = utc_now,
) -> ParsedFile:
    """Parse the erasure file at `location`: `s3://bucket/key` through `read_text` (see
    `s3_text_reader`), anything else as a local path (or through `read_text` when given)."""
    if read_text is None:
        if location.startswith(_S3_PREFIX):
            raise ConfigurationError("an s3:// erasure file needs a reader (s3_text_reader)")
        read_text = _read_local
    try:
        text = read_text(location)
    except LeadsyncError:
        raise
    except OSError as exc:
        raise ConfigurationError(f"cannot read the erasure file: {type(exc).__name__}") from exc
    return parse_erasure_file(text, requested_at=clock(), reference=Path(location).name)


def _read_local(location: str) -> str:
    return Path(location).read_text(encoding="utf-8-sig", errors="replace")


def s3_text_reader(client: S3Client | None = None) -> Callable[[str], str]:
    """`s3://bucket/key` → its text (UTF-8), S3 errors as the project's exceptions."""

    def read(location: str) -> str:
        bucket, _, key = location.removeprefix(_S3_PREFIX).partition("/")
        if not location.startswith(_S3_PREFIX) or not bucket or not key:
            raise ConfigurationError("an S3 erasure file is named s3://bucket/key")
        s3 = client or _s3()
        try:
            body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        except AWS_ERRORS as exc:
            raise _translate_s3(exc) from exc
        return bytes(body).decode("utf-8-sig", errors="replace")

    return read


def _s3() -> S3Client:
    import boto3

    return boto3.client("s3", config=aws._config())


def _translate_s3(exc: Exception) -> LeadsyncError:
    code = aws.error_code(exc)
    if code in {"NoSuchKey", "NoSuchBucket", "404", "AccessDenied", "403"}:
        return ConfigurationError(f"S3 GetObject failed: {code}: is the erasure file there?")
    return aws.classify(
        exc,
        service="S3",
        action="GetObject",
        throttling=frozenset({"SlowDown", "Throttling", "ThrottlingException"}),
        permanent=frozenset({"InvalidBucketName", "InvalidObjectState"}),
    )


class QueueInbox:
    """The fetch's erasure inbox: requests taken from the erasure queue, hidden while the run
    lasts, and deleted only once their deletes are on the sync queue."""

    def __init__(
        self, queue: ErasureQueue, *, max_messages: int = 3000, visibility_seconds: int = 1000
    ) -> None:
        self._queue = queue
        self._max = max_messages
        self._visibility = visibility_seconds
        self._handles: list[str] = []

    def take(self) -> list[ErasureRequest]:
        received = self._queue.receive(self._max, visibility_timeout=self._visibility)
        self._handles = received.receipt_handles
        return received.requests

    def confirm(self) -> None:
        if self._handles:
            self._queue.confirm(self._handles)
        self._handles = []
