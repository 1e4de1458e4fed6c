"""Bulk: each BulkQueue message is one step of a bulk import (submit, or poll and read back);
the next step is a delayed message, so no invocation waits for Marketo to import.

A body that is not a bulk step is logged and stored in the error store, then dropped: it
points at no job. A step that fails on AWS (DynamoDB, S3, SQS) is reported as a batch item
failure and comes round again; after five receives the queue's redrive moves it to the bulk
dead-letter queue, and its job, no longer moving, is reported by the digest as stuck.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities import batch
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from leadsync.runtime.config import BulkEnv, load
from leadsync.runtime.events import parse_sqs_event
from leadsync.runtime.observability import get_logger
from leadsync.runtime.wiring.bulk import BulkFunction
from leadsync.runtime.wiring.deadline import InvocationDeadline

logger = get_logger()
processor = batch.BatchProcessor(event_type=batch.EventType.SQS)
deadline = InvocationDeadline()


@cache
def environment() -> BulkEnv:
    return load(BulkEnv)


@cache
def wired() -> BulkFunction:
    """What one execution environment keeps between invocations."""
    return BulkFunction(environment(), deadline)


def record_handler(record: SQSRecord) -> dict[str, Any]:
    return wired().step(record)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    parse_sqs_event(event)
    environment()
    deadline.start(context)
    with wired().meter.counting():
        return batch.process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
