"""Health over the HTTP API: 200 when leadsync is healthy, 503 with the reasons when not."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from leadsync.adapters.breaker import DynamoDBBreaker
from leadsync.adapters.queue import SqsQueue
from leadsync.adapters.schema_verdict import SchemaVerdicts
from leadsync.adapters.state import StateStore
from leadsync.limiter.readout import LanesReadout
from leadsync.report.health import Budget, HealthSettings, assess
from leadsync.runtime import metrics
from leadsync.runtime.clock import utc_now
from leadsync.runtime.config import HealthEnv, load
from leadsync.runtime.observability import get_logger
from leadsync.runtime.secrets import load_credentials
from leadsync.runtime.wiring import InvocationDeadline, marketo_client
from leadsync.sources.livechat import LiveChatClient

logger = get_logger()
deadline = InvocationDeadline()


@cache
def environment() -> HealthEnv:
    return load(HealthEnv)


def _schema(env: HealthEnv) -> str:
    """What the functions' last look at the lead schema found (no Marketo call here)."""
    verdict = SchemaVerdicts(env.state_table).get()
    return f"configuration / {verdict.summary()}" if verdict and verdict.problems else ""


def _budget(env: HealthEnv) -> Budget:
    readout = LanesReadout(env.state_table, os.environ).read()
    return Budget(readout.used, readout.left, readout.cap, readout.quota_exhausted)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    env = environment()
    deadline.start(context)
    now = utc_now()
    credentials = load_credentials(env.credentials_secret)
    livechat = LiveChatClient(
        credentials.livechat_account_id,
        credentials.livechat_token.get_secret_value(),
        str(credentials.livechat_api_url),
        timeout=(3.0, 5.0),
    )
    marketo, _ = marketo_client(credentials, env, env.state_table, deadline)
    queues = {"sync": env.sync_queue_url, "dead_letters": env.dead_letter_queue_url}
    if env.priority_queue_url:
        queues["priority"] = env.priority_queue_url
    try:
        report = assess(
            now=now,
            livechat=lambda: livechat.check(now),
            marketo=marketo.check_token,
            last_run=StateStore(env.state_table).get_high_water_mark,
            queue_depths={name: SqsQueue(url).approximate_depth for name, url in queues.items()},
            dead_letter_queue="dead_letters",
            budget=lambda: _budget(env),
            breaker=lambda: DynamoDBBreaker(env.state_table, "marketo").snapshot().state,
            settings=HealthSettings(max_run_age=timedelta(minutes=env.health_max_run_age_minutes)),
            schema=lambda: _schema(env),
        )
    finally:
        livechat.close()
        marketo.close()
    body = report.body()
    log = logger.info if report.healthy else logger.warning
    log("health", extra={"healthy": report.healthy, "reasons": report.reasons})
    metrics.emit({"HealthChecks": 1, "Unhealthy": 0 if report.healthy else 1})
    return {
        "statusCode": report.status,
        "headers": {"content-type": "application/json", "cache-control": "no-store"},
        "body": json.dumps(body),
    }
