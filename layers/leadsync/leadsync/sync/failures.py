"""What the error store keeps about one failure: enough to understand it and replay it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from leadsync.activities.records import ChatActivity
from leadsync.models import IdList, Rejection
from leadsync.sync.messages import SyncRecord

# a queue message that is not what its queue carries (the reason and the code)
INVALID_MESSAGE = "invalid_message"


class ErrorKind(StrEnum):
    REJECTED = "rejected"  # a chat that could not become a visitor
    UNDELIVERABLE = "undeliverable"  # a visitor that cannot be queued or written
    RUN_FAILED = "run_failed"  # a whole run stopped; its chats are read again next time
    # written, but Marketo's lead changed between the lookup and the write (a create met a
    # lead that appeared meanwhile, an update by e-mail found its lead gone): worth a look
    RACED = "raced"
    # the instance or the stack is not set up for leadsync (a mapped field missing...): the
    # sync waits, losing nothing, until an administrator fixes it
    CONFIGURATION = "configuration"


class ErrorEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ErrorKind
    reason: str = Field(min_length=1, max_length=100)
    detail: str = ""
    chat_ids: IdList = Field(default_factory=list)
    correlation_id: str | None = None
    record: dict[str, Any] | None = None
    first_failure_at: AwareDatetime
    last_failure_at: AwareDatetime
    # what was asked of the destination and what it answered, when a call failed
    code: str | None = Field(default=None, max_length=100)
    request: str | None = Field(default=None, max_length=200)
    attempts: int = Field(default=1, ge=1)
    # where the store keeps it ("<pk>|<sk>"), and when `leadsync replay` re-drove it
    key: str | None = None
    replayed_at: AwareDatetime | None = None


def from_rejection(
    rejection: Rejection, *, at: datetime, correlation_id: str | None = None
) -> ErrorEntry:
    return ErrorEntry(
        kind=ErrorKind.REJECTED,
        reason=rejection.reason.value,
        detail=rejection.detail,
        chat_ids=[rejection.chat_id],
        correlation_id=correlation_id,
        record=rejection.model_dump(mode="json"),
        first_failure_at=at,
        last_failure_at=at,
    )


def activity_too_large(
    activity: ChatActivity, *, at: datetime, correlation_id: str | None = None
) -> ErrorEntry:
    """A chat activity that does not fit one queue message."""
    return ErrorEntry(
        kind=ErrorKind.UNDELIVERABLE,
        reason="activity_too_large",
        detail="the chat's activity does not fit in one message",
        chat_ids=[activity.chat_id],
        correlation_id=correlation_id,
        record={"activity": activity.model_dump(mode="json")},
        first_failure_at=at,
        last_failure_at=at,
    )


def from_record(
    record: SyncRecord,
    *,
    reason: str,
    detail: str,
    at: datetime,
    correlation_id: str | None = None,
    code: str | None = None,
    request: str | None = None,
    attempts: int = 1,
    first_failure_at: datetime | None = None,
) -> ErrorEntry:
    return ErrorEntry(
        kind=ErrorKind.UNDELIVERABLE,
        reason=reason,
        detail=detail,
        chat_ids=record.chat_ids,
        correlation_id=correlation_id,
        record=record.model_dump(mode="json"),
        first_failure_at=first_failure_at or at,
        last_failure_at=at,
        code=code,
        request=request,
        attempts=attempts,
    )


def invalid_message(
    message_id: str, body: str, *, detail: str, at: datetime, attempts: int = 1
) -> ErrorEntry:
    """A queue message whose body is not what its queue carries: its id and size are kept,
    never its content."""
    return ErrorEntry(
        kind=ErrorKind.UNDELIVERABLE,
        reason=INVALID_MESSAGE,
        detail=detail,
        record={"message_id": message_id, "bytes": len(body.encode())},
        first_failure_at=at,
        last_failure_at=at,
        code=INVALID_MESSAGE,
        attempts=attempts,
    )
