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
from zoneinfo import ZoneInfo

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from leadsync.adapters.bulk import (
    DynamoDBImportSlots,
    DynamoDBJobStore,
    S3StagedFiles,
    SqsBulkSender,
)
from leadsync.adapters.ledger import DynamoDBWriteLedger
from leadsync.adapters.queue import SqsQueue
from leadsync.adapters.state import StateStore
from leadsync.adapters.stats import DailyStats
from leadsync.bulk import engine
from leadsync.bulk.jobs import BulkMessage
from leadsync.bulk.schedule import BulkSettings
from leadsync.marketo.client import MarketoClient
from leadsync.runtime.clock import utc_now
from leadsync.runtime.config import BulkEnv, load
from leadsync.runtime.events import parse_sqs_event
from leadsync.runtime.observability import get_logger
from leadsync.runtime.secrets import load_credentials
from leadsync.runtime.wiring import InvocationDeadline, bulk_settings, call_counters, marketo_client
from leadsync.sync.failures import ErrorEntry, ErrorKind
from leadsync.sync.fetch.batching import BatchLimits

logger = get_logger()
processor = BatchProcessor(event_type=EventType.SQS)
deadline = InvocationDeadline()


@cache
def environment() -> BulkEnv:
    return load(BulkEnv)


class Wired:
    """What one execution environment keeps between invocations."""

    def __init__(self, env: BulkEnv) -> None:
        credentials = load_credentials(env.credentials_secret)
        self.client, _ = marketo_client(credentials, env, env.state_table, deadline)
        self.stats = DailyStats(env.state_table, zone=env.marketo_quota_timezone)
        self.errors = StateStore(env.state_table)
        self.ports = engine.BulkPorts(
            jobs=DynamoDBJobStore(env.state_table),
            slots=DynamoDBImportSlots(env.state_table),
            files=S3StagedFiles(env.bulk_bucket),
            marketo=self.client,
            queue=SqsBulkSender(env.bulk_queue_url),
            rest=SqsQueue(env.sync_queue_url),
            errors=self.errors,
            stats=self.stats,
            lookup=self.client,
            written=DynamoDBWriteLedger(env.state_table),
        )
        self.settings: BulkSettings = bulk_settings(env)
        self.limits = BatchLimits.for_queue(
            env.marketo_records_per_call, env.marketo_max_body_bytes
        )


@cache
def wired() -> Wired:
    return Wired(environment())


def record_handler(record: SQSRecord) -> dict[str, Any]:
    kept = wired()
    try:
        message = BulkMessage.model_validate_json(record.body)
    except ValidationError as exc:
        return _drop_invalid(record, exc)
    logger.append_keys(job_id=message.job_id, correlation_id=message.correlation_id)
    result = engine.process(message, kept.ports, kept.settings, limits=kept.limits)
    logger.info("bulk step", extra={"result": result.model_dump(), "message_id": record.message_id})
    return result.model_dump()


def _drop_invalid(record: SQSRecord, exc: ValidationError) -> dict[str, Any]:
    at = utc_now()
    reason = f"not a bulk step: {exc.error_count()} problem(s)"
    wired().errors.record_errors(
        [
            ErrorEntry(
                kind=ErrorKind.UNDELIVERABLE,
                reason="invalid_message",
                detail=f"{reason}; dropped from the bulk queue",
                record={"message_id": record.message_id, "bytes": len(record.body.encode())},
                first_failure_at=at,
                last_failure_at=at,
                code="invalid_message",
            )
        ]
    )
    logger.warning("bulk queue message is not a step; dropped", extra={"reason": reason})
    return {"invalid_message": True, "message_id": record.message_id}


def _count_calls(client: MarketoClient, before: int, zone: str) -> None:
    used = sum(n for kind, n in client.calls.items() if kind != "identity") - before
    if used > 0:
        at = utc_now()
        wired().stats.add(call_counters(used, at, ZoneInfo(zone)), at=at)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    parse_sqs_event(event)
    env = environment()
    deadline.start(context)
    kept = wired()
    before = sum(n for kind, n in kept.client.calls.items() if kind != "identity")
    try:
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    finally:
        _count_calls(kept.client, before, env.marketo_quota_timezone)
