"""Upload: each SQS message is one batch of lead writes, one list operation or one delete;
a failed message is retried alone.

Each message is processed once: its result is kept with an idempotency record (Powertools,
in the state table) keyed by the SQS message id, so a message delivered again after it was
done (the function ended before SQS deleted it) returns the kept result and writes nothing.
A body that is not a batch goes straight to the dead-letter queue, byte for byte, with the
reason, and into the error store.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
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

from leadsync.adapters.breaker import DynamoDBBreaker
from leadsync.adapters.claims import CreateClaims
from leadsync.adapters.dead_letters import ERROR_CODE, ERROR_MESSAGE, DeadLetters
from leadsync.adapters.leads import DynamoDBLeadDirectory
from leadsync.adapters.ledger import DynamoDBWriteLedger
from leadsync.adapters.queue import SqsQueue
from leadsync.adapters.state import StateStore
from leadsync.adapters.stats import DailyStats
from leadsync.errors import InvalidMessage
from leadsync.limiter.usage import InstanceUsageSync
from leadsync.mapping.fieldmap import default_field_map
from leadsync.marketo.guard import Guard, GuardedWriter
from leadsync.runtime import metrics
from leadsync.runtime.clock import utc_now
from leadsync.runtime.config import UploadEnv, load
from leadsync.runtime.events import parse_sqs_event
from leadsync.runtime.observability import get_logger
from leadsync.runtime.secrets import load_credentials
from leadsync.runtime.wiring import InvocationDeadline, call_counters, marketo_client, schema_gate
from leadsync.sync.failures import ErrorEntry, ErrorKind
from leadsync.sync.upload import run as upload

logger = get_logger()
processor = BatchProcessor(event_type=EventType.SQS)
deadline = InvocationDeadline()


@cache
def environment() -> UploadEnv:
    env = load(UploadEnv)
    default_field_map()  # a broken field map fails the cold start, before any call
    return env


class Wired:
    """What one execution environment keeps between invocations."""

    def __init__(self, env: UploadEnv) -> None:
        # imported here: the idempotency utility loads boto3, which a cold start defers
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )

        credentials = load_credentials(env.credentials_secret)
        self.client, self.limiter = marketo_client(credentials, env, env.state_table, deadline)
        breaker = DynamoDBBreaker(
            env.state_table,
            "marketo",
            threshold=env.breaker_failure_threshold,
            cooldown_s=env.breaker_cooldown_seconds,
        )
        self.stats = DailyStats(env.state_table, zone=env.marketo_quota_timezone)
        self.errors = StateStore(env.state_table, on_errors=metrics.emit_errors)
        self.dead_letters = DeadLetters(env.dead_letter_queue_url)
        self.ports = upload.UploadPorts(
            marketo=GuardedWriter(
                self.client,
                Guard(breaker, remaining_s=deadline.remaining_s),
                lookup_size=env.marketo_records_per_call,
            ),
            claims=CreateClaims(env.state_table),
            errors=self.errors,
            deferrer=SqsQueue(env.sync_queue_url),
            stats=self.stats,
            dead_letters=self.dead_letters,
            leads=DynamoDBLeadDirectory(env.state_table),
            ledger=DynamoDBWriteLedger(env.state_table),
            schema=schema_gate(self.client, env.state_table, self.errors),
        )
        self.settings = upload.UploadSettings(
            field_map=default_field_map(),
            max_attempts=env.upload_max_attempts,
            combine_window=timedelta(seconds=env.combined_write_window_seconds),
        )
        # what every integration on the instance used today, read at most every few minutes
        # across all copies, so the daily budget leaves the others their share
        self.usage = InstanceUsageSync(self.limiter, lambda: self.client.usage_today().total)
        self.idempotency = IdempotencyConfig(
            event_key_jmespath="messageId",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=6 * 3600,
        )
        persistence = DynamoDBPersistenceLayer(
            table_name=env.state_table,
            key_attr="pk",
            sort_key_attr="sk",
            expiry_attr="expires_at",
        )
        self.handle: Callable[..., dict[str, Any]] = idempotent_function(
            data_keyword_argument="record",
            persistence_store=persistence,
            config=self.idempotency,
        )(_process)


@cache
def wired() -> Wired:
    return Wired(environment())


def ports() -> upload.UploadPorts:
    return wired().ports


def _process(record: SQSRecord) -> dict[str, Any]:
    kept = wired()
    receives = int(record.attributes.approximate_receive_count or "1")
    # every line this message causes carries the correlation id its chats were queued with
    logger.append_keys(correlation_id=upload.peek_correlation_id(record.body))
    try:
        result = upload.process(
            record.body,
            holder=record.message_id,
            ports=kept.ports,
            settings=kept.settings,
            redelivered=receives > 1,
        )
    except InvalidMessage as exc:
        return _dead_letter_invalid(record, str(exc), receives)
    logger.info(
        "batch written", extra={"result": result.model_dump(), "message_id": record.message_id}
    )
    metrics.emit_upload(result)
    return result.model_dump()


def _dead_letter_invalid(record: SQSRecord, reason: str, receives: int) -> dict[str, Any]:
    """Keep the body as it came, with the reason, where a person will see it."""
    kept = wired()
    at = utc_now()
    kept.dead_letters.send(record.body, {ERROR_CODE: "invalid_message", ERROR_MESSAGE: reason})
    kept.errors.record_errors(
        [
            ErrorEntry(
                kind=ErrorKind.UNDELIVERABLE,
                reason="invalid_message",
                detail=f"{reason}; the body is in the dead-letter queue as it came",
                record={"message_id": record.message_id, "bytes": len(record.body.encode())},
                first_failure_at=at,
                last_failure_at=at,
                code="invalid_message",
                attempts=receives,
            )
        ]
    )
    logger.warning(
        "message is not a batch; dead-lettered",
        extra={"message_id": record.message_id, "reason": reason},
    )
    return {"invalid_message": True, "message_id": record.message_id, "reason": reason}


def record_handler(record: SQSRecord) -> dict[str, Any]:
    return wired().handle(record=record)


def _count_calls(kept: Wired, before: int, waited_before: float, at: datetime, zone: str) -> None:
    used = sum(n for kind, n in kept.client.calls.items() if kind != "identity") - before
    if used > 0:
        kept.stats.add(call_counters(used, at, ZoneInfo(zone)), at=at)
    metrics.emit_marketo(used, kept.limiter, kept.limiter.stats.slept_seconds - waited_before)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    parse_sqs_event(event)  # another kind of event costs no Marketo call
    env = environment()
    deadline.start(context)
    kept = wired()
    kept.idempotency.register_lambda_context(context)
    before = sum(n for kind, n in kept.client.calls.items() if kind != "identity")
    waited_before = kept.limiter.stats.slept_seconds
    started = utc_now()
    try:
        if kept.limiter.name == "marketo":  # the normal lane keeps the instance's usage
            kept.usage.maybe_sync()
        return process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    finally:
        _count_calls(kept, before, waited_before, started, env.marketo_quota_timezone)
