"""One SQS delivery of an upload message: its writes made (`run.process`), or, when its body
is not a batch, the body kept as it came where a person will see it: in the dead-letter
queue, byte for byte with the reason, and in the error store.

A delivery after the first (SQS's receive count above 1) may repeat work already done, so
the upload reads the leads and decides every record again before writing.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from leadsync.adapters.dead_letters import ERROR_CODE, ERROR_MESSAGE
from leadsync.errors import InvalidMessage
from leadsync.ports import ErrorSink
from leadsync.runtime.clock import utc_now
from leadsync.runtime.observability import get_logger
from leadsync.sync.failures import INVALID_MESSAGE, invalid_message
from leadsync.sync.messages import peek_correlation_id
from leadsync.sync.upload.outcome import UploadResult
from leadsync.sync.upload.ports import DeadLetterSink, UploadPorts
from leadsync.sync.upload.run import process
from leadsync.sync.upload.state import UploadSettings


class NotABatch(BaseModel):
    """A message whose body is not a batch: dead-lettered as it came."""

    model_config = ConfigDict(frozen=True)

    invalid_message: Literal[True] = True
    message_id: str
    reason: str


def deliver(
    body: str,
    *,
    message_id: str,
    receives: int,
    ports: UploadPorts,
    settings: UploadSettings,
) -> UploadResult | NotABatch:
    """The `receives`-th delivery of the message `message_id`."""
    logger = get_logger()
    # every line this message causes carries the correlation id its chats were queued with
    logger.append_keys(correlation_id=peek_correlation_id(body))
    try:
        result = process(
            body, holder=message_id, ports=ports, settings=settings, redelivered=receives > 1
        )
    except InvalidMessage as exc:
        if ports.dead_letters is None:  # nowhere to keep it: SQS's redrive will
            raise
        return dead_letter_invalid(
            body,
            message_id=message_id,
            reason=str(exc),
            receives=receives,
            dead_letters=ports.dead_letters,
            errors=ports.errors,
        )
    logger.info("batch written", extra={"result": result.model_dump(), "message_id": message_id})
    return result


def dead_letter_invalid(
    body: str,
    *,
    message_id: str,
    reason: str,
    receives: int,
    dead_letters: DeadLetterSink,
    errors: ErrorSink,
) -> NotABatch:
    """Keep the body as it came, with the reason, where a person will see it."""
    at = utc_now()
    dead_letters.send(body, {ERROR_CODE: INVALID_MESSAGE, ERROR_MESSAGE: reason})
    detail = f"{reason}; the body is in the dead-letter queue as it came"
    errors.record_errors(
        [invalid_message(message_id, body, detail=detail, at=at, attempts=receives)]
    )
    get_logger().warning(
        "message is not a batch; dead-lettered",
        extra={"message_id": message_id, "reason": reason},
    )
    return NotABatch(message_id=message_id, reason=reason)
