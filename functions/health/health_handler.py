"""Health over the HTTP API: 200 when leadsync is healthy, 503 with the reasons when not."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from leadsync.runtime.config import HealthEnv, load
from leadsync.runtime.events import http_answer
from leadsync.runtime.observability import get_logger
from leadsync.runtime.wiring.deadline import InvocationDeadline
from leadsync.runtime.wiring.health import check_health

logger = get_logger()
deadline = InvocationDeadline()


@cache
def environment() -> HealthEnv:
    return load(HealthEnv)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    env = environment()
    deadline.start(context)
    report = check_health(env, deadline)
    return http_answer(report.status, report.body(), {"cache-control": "no-store"})
