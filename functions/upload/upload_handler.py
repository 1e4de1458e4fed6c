"""Upload: each SQS message is one batch of lead writes, one list operation or one delete,
retried alone when it fails, and processed once: its result is kept with an idempotency
record (in the state table) keyed by the SQS message id, so a message delivered again after
it was done writes nothing. A body that is not a batch goes to the dead-letter queue as it
came, with the reason, and into the error store.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities import batch
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from leadsync.mapping.fieldmap import default_field_map
from leadsync.runtime.config import UploadEnv, load
from leadsync.runtime.events import parse_sqs_event
from leadsync.runtime.observability import get_logger
from leadsync.runtime.wiring.deadline import InvocationDeadline
from leadsync.runtime.wiring.upload import UploadFunction

logger = get_logger()
processor = batch.BatchProcessor(event_type=batch.EventType.SQS)
deadline = InvocationDeadline()


@cache
def environment() -> UploadEnv:
    env = load(UploadEnv)
    default_field_map()  # a broken field map fails the cold start, before any call
    return env


@cache
def wired() -> UploadFunction:
    """What one execution environment keeps between invocations."""
    return UploadFunction(environment(), deadline, process=_process)


def _process(record: SQSRecord) -> dict[str, Any]:
    # the idempotency record is keyed by this function's name and the message id
    return wired().deliver(record)


def record_handler(record: SQSRecord) -> dict[str, Any]:
    return wired().handle(record=record)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    parse_sqs_event(event)  # another kind of event costs no Marketo call
    environment()
    deadline.start(context)
    with wired().invocation(context):
        return batch.process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
