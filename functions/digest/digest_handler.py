"""Daily digest: new errors and dead letters, mailed to the admin through SES."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from leadsync import digest_job
from leadsync.adapters.mail import Mailer
from leadsync.adapters.queue import SqsQueue
from leadsync.adapters.state import StateStore
from leadsync.config import DigestEnv, load
from leadsync.events import parse_scheduled_event
from leadsync.observability import get_logger

logger = get_logger()


@cache
def environment() -> DigestEnv:
    return load(DigestEnv)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    scheduled = parse_scheduled_event(event)
    env = environment()
    logger.append_keys(schedule_event_id=scheduled.id)
    summary = digest_job.run(
        state=StateStore(env.state_table),
        dead_letters=SqsQueue(env.dead_letter_queue_url),
        mailer=Mailer(env.sender_email),
        recipients=env.admin_email,
        send_all_clear=env.digest_send_all_clear,
    )
    return summary.model_dump(mode="json")
