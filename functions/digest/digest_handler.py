"""Daily digest: failures by cause, dead letters and the day's totals, mailed through SES."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from leadsync import digest_job
from leadsync.adapters.dead_letters import DeadLetters
from leadsync.adapters.mail import Mailer
from leadsync.adapters.queue import SqsQueue
from leadsync.adapters.state import StateStore
from leadsync.adapters.stats import DailyStats
from leadsync.config import DigestEnv, load
from leadsync.events import parse_scheduled_event
from leadsync.limiter.config import LimiterConfig
from leadsync.limiter.readout import LimiterReadout
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
    zone = env.marketo_quota_timezone
    limits = LimiterConfig(
        daily_cap=env.marketo_daily_cap,
        daily_quota=env.marketo_daily_quota,
        quota_timezone=zone,
    )
    summary = digest_job.run(
        state=StateStore(env.state_table),
        dead_letters=DeadLetters(env.dead_letter_queue_url),
        dead_letter_depth=SqsQueue(env.dead_letter_queue_url),
        mailer=Mailer(env.sender_email),
        recipients=env.admin_email,
        stats=DailyStats(env.state_table, zone=zone),
        budget=LimiterReadout(env.state_table, limits),
        zone=zone,
        send_all_clear=env.digest_send_all_clear,
    )
    return summary.model_dump(mode="json")
