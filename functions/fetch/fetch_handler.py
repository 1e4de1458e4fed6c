"""Hourly fetch: LiveChat chats since the high-water mark, queued for upload."""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from leadsync import fetch
from leadsync.adapters.queue import SqsQueue
from leadsync.adapters.state import StateStore
from leadsync.batching import BatchLimits
from leadsync.config import FetchEnv, load
from leadsync.events import parse_scheduled_event
from leadsync.observability import get_logger
from leadsync.secrets import load_credentials
from leadsync.sources.livechat import LiveChatClient

logger = get_logger()


@cache
def environment() -> FetchEnv:
    return load(FetchEnv)


def settings(env: FetchEnv) -> fetch.FetchSettings:
    return fetch.FetchSettings(
        limits=BatchLimits.for_queue(env.marketo_records_per_call, env.marketo_max_body_bytes),
        overlap=timedelta(minutes=env.fetch_overlap_minutes),
        max_window=timedelta(hours=env.fetch_max_window_hours),
        first_start=env.fetch_start,
    )


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    scheduled = parse_scheduled_event(event)
    env = environment()
    logger.append_keys(schedule_event_id=scheduled.id)
    credentials = load_credentials(env.credentials_secret)
    source = LiveChatClient(
        credentials.livechat_account_id,
        credentials.livechat_token.get_secret_value(),
        str(credentials.livechat_api_url),
    )
    try:
        summary = fetch.run(
            source=source,
            state=StateStore(env.state_table),
            queue=SqsQueue(env.sync_queue_url),
            settings=settings(env),
        )
    finally:
        source.close()
    return summary.model_dump(mode="json")
