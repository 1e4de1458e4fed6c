"""Daily digest: failures by cause, dead letters and the day's totals, mailed through SES."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from leadsync.runtime.config import DigestEnv, load
from leadsync.runtime.events import parse_scheduled_event
from leadsync.runtime.observability import get_logger
from leadsync.runtime.wiring.digest import send_digest

logger = get_logger()


@cache
def environment() -> DigestEnv:
    return load(DigestEnv)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    scheduled = parse_scheduled_event(event)
    env = environment()
    logger.append_keys(schedule_event_id=scheduled.id)
    summary = send_digest(env)
    return summary.model_dump(mode="json")
