"""Upload: each SQS message is one batch; a failed message is reported alone for retry."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from leadsync import upload
from leadsync.config import UploadEnv, load
from leadsync.observability import get_logger

logger = get_logger()
processor = BatchProcessor(event_type=EventType.SQS)


@cache
def environment() -> UploadEnv:
    return load(UploadEnv)


def record_handler(record: SQSRecord) -> dict[str, Any]:
    result = upload.process(record.body)
    logger.info("batch validated", extra={**result.model_dump(), "message_id": record.message_id})
    return result.model_dump()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    environment()
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
