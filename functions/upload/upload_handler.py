"""Upload: each SQS message is one batch of lead writes; a failed message is retried alone."""

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
from leadsync.adapters.claims import CreateClaims
from leadsync.adapters.queue import SqsQueue
from leadsync.adapters.state import StateStore
from leadsync.adapters.stats import DailyStats
from leadsync.config import UploadEnv, load
from leadsync.fieldmap import default_field_map
from leadsync.limiter.usage import InstanceUsageSync
from leadsync.observability import get_logger
from leadsync.secrets import load_credentials
from leadsync.wiring import InvocationDeadline, marketo_client

logger = get_logger()
processor = BatchProcessor(event_type=EventType.SQS)
deadline = InvocationDeadline()


@cache
def environment() -> UploadEnv:
    env = load(UploadEnv)
    default_field_map()  # a broken field map fails the cold start, before any call
    return env


@cache
def wired() -> tuple[upload.UploadPorts, InstanceUsageSync]:
    env = environment()
    credentials = load_credentials(env.credentials_secret)
    marketo, limiter = marketo_client(credentials, env, env.state_table, deadline)
    ports = upload.UploadPorts(
        marketo=marketo,
        claims=CreateClaims(env.state_table),
        errors=StateStore(env.state_table),
        deferrer=SqsQueue(env.sync_queue_url),
        stats=DailyStats(env.state_table, zone=env.marketo_quota_timezone),
    )
    # what every integration on the instance used today, read at most every few minutes
    # across all copies, so the daily budget leaves the others their share
    usage = InstanceUsageSync(limiter, lambda: marketo.usage_today().total)
    return ports, usage


def ports() -> upload.UploadPorts:
    return wired()[0]


def record_handler(record: SQSRecord) -> dict[str, Any]:
    result = upload.process(
        record.body,
        holder=record.message_id,
        ports=ports(),
        settings=upload.UploadSettings(field_map=default_field_map()),
    )
    logger.info(
        "batch written", extra={"result": result.model_dump(), "message_id": record.message_id}
    )
    return result.model_dump()


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    environment()
    deadline.start(context)
    wired()[1].maybe_sync()
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
