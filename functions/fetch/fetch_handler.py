"""Hourly fetch: LiveChat chats since the high-water mark, diffed against Marketo, queued."""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from aws_lambda_powertools.utilities.typing import LambdaContext

from leadsync.adapters.breaker import DynamoDBBreaker
from leadsync.adapters.queue import SqsQueue
from leadsync.adapters.state import StateStore
from leadsync.adapters.stats import DailyStats
from leadsync.limiter.usage import InstanceUsageSync
from leadsync.lists.rules import default_list_rules
from leadsync.mapping.fieldmap import default_field_map
from leadsync.marketo.guard import Guard, GuardedWriter
from leadsync.runtime import metrics
from leadsync.runtime.clock import utc_now
from leadsync.runtime.config import BulkStagingEnv, FetchEnv, load
from leadsync.runtime.events import parse_scheduled_event
from leadsync.runtime.observability import get_logger
from leadsync.runtime.secrets import load_credentials
from leadsync.runtime.wiring import (
    InvocationDeadline,
    bulk_route,
    call_counters,
    fetch_settings,
    marketo_client,
    schema_gate,
    whole_sync,
)
from leadsync.sources.livechat import LiveChatClient, page_guard
from leadsync.sync.fetch import run as fetch

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
    credentials = load_credentials(env.credentials_secret)
    source = LiveChatClient(
        credentials.livechat_account_id,
        credentials.livechat_token.get_secret_value(),
        str(credentials.livechat_api_url),
        guard=page_guard(deadline.remaining_s),
    )
    marketo, limiter = marketo_client(credentials, env, env.state_table, deadline)
    # lookups share the breaker with the upload: while Marketo is failing the run stops
    # early, the mark stays, and the next run reads the same chats again
    breaker = DynamoDBBreaker(
        env.state_table,
        "marketo",
        threshold=env.breaker_failure_threshold,
        cooldown_s=env.breaker_cooldown_seconds,
    )
    destination = GuardedWriter(
        marketo,
        Guard(breaker, remaining_s=deadline.remaining_s),
        lookup_size=env.marketo_records_per_call,
    )
    stats = DailyStats(env.state_table, zone=env.marketo_quota_timezone)
    started = utc_now()
    try:
        InstanceUsageSync(limiter, lambda: marketo.usage_today().total).maybe_sync()
        state = StateStore(env.state_table, on_errors=metrics.emit_errors)
        summary = fetch.run(
            source=source,
            state=state,
            queue=SqsQueue(env.sync_queue_url),
            destination=destination,
            settings=fetch_settings(env),
            stats=stats,
            whole=replace(
                whole_sync(env, client=marketo),
                bulk=bulk_route(
                    load(BulkStagingEnv), env.state_table, per_call=env.marketo_records_per_call
                ),
            ),
            schema=schema_gate(marketo, env.state_table, state),
        )
        metrics.emit_fetch(summary)
    finally:
        source.close()
        marketo.close()
        used = sum(n for kind, n in marketo.calls.items() if kind != "identity")
        if used:
            zone = ZoneInfo(env.marketo_quota_timezone)
            stats.add(call_counters(used, started, zone), at=started)
        metrics.emit_marketo(used, limiter, limiter.stats.slept_seconds)
    return summary.model_dump(mode="json")
