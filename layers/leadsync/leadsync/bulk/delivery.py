"""One BulkQueue delivery: the step of an import it is due for (`engine.process`), or, when
its body is not a bulk step, an entry in the error store and nothing more: it points at no
job, so it is dropped."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from leadsync.bulk.engine import process
from leadsync.bulk.jobs import BulkMessage
from leadsync.bulk.schedule import BulkSettings
from leadsync.bulk.step import BulkPorts, StepResult
from leadsync.ports import ErrorSink
from leadsync.runtime.clock import utc_now
from leadsync.runtime.observability import get_logger
from leadsync.sync.failures import invalid_message
from leadsync.sync.fetch.batching import BatchLimits


class NotAStep(BaseModel):
    """A message whose body is not a bulk step: stored in the error store, dropped."""

    model_config = ConfigDict(frozen=True)

    invalid_message: Literal[True] = True
    message_id: str


def take_step(
    body: str,
    *,
    message_id: str,
    ports: BulkPorts,
    settings: BulkSettings,
    limits: BatchLimits,
) -> StepResult | NotAStep:
    try:
        message = BulkMessage.model_validate_json(body)
    except ValidationError as exc:
        return drop_invalid(body, message_id, exc, ports.errors)
    logger = get_logger()
    logger.append_keys(job_id=message.job_id, correlation_id=message.correlation_id)
    result = process(message, ports, settings, limits=limits)
    logger.info("bulk step", extra={"result": result.model_dump(), "message_id": message_id})
    return result


def drop_invalid(body: str, message_id: str, exc: ValidationError, errors: ErrorSink) -> NotAStep:
    reason = f"not a bulk step: {exc.error_count()} problem(s)"
    detail = f"{reason}; dropped from the bulk queue"
    errors.record_errors([invalid_message(message_id, body, detail=detail, at=utc_now())])
    get_logger().warning("bulk queue message is not a step; dropped", extra={"reason": reason})
    return NotAStep(message_id=message_id)
