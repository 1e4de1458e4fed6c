"""Hourly fetch: LiveChat chats since the high-water mark, diffed against Marketo, queued."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from leadsync.lists.rules import default_list_rules
from leadsync.mapping.fieldmap import default_field_map
from leadsync.runtime.config import FetchEnv, load
from leadsync.runtime.events import parse_scheduled_event
from leadsync.runtime.observability import get_logger
from leadsync.runtime.wiring.deadline import InvocationDeadline
from leadsync.runtime.wiring.fetch import run_fetch

logger = get_logger()
deadline = InvocationDeadline()


@cache
def environment() -> FetchEnv:
    env = load(FetchEnv)
    default_field_map()  # a broken field map or list rules fail the cold start
    default_list_rules()
    return env


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    scheduled = parse_scheduled_event(event)
    env = environment()
    deadline.start(context)
    logger.append_keys(schedule_event_id=scheduled.id)
    summary = run_fetch(env, deadline)
    return summary.model_dump(mode="json")
