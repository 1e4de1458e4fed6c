"""LiveChat webhooks over the HTTP API: checked, deduplicated, queued on the priority lane."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from leadsync.mapping.fieldmap import default_field_map
from leadsync.runtime.config import WebhookEnv, load
from leadsync.runtime.events import http_answer
from leadsync.runtime.observability import get_logger
from leadsync.runtime.wiring.webhook import receive_webhook

logger = get_logger()


@cache
def environment() -> WebhookEnv:
    env = load(WebhookEnv)
    default_field_map()
    return env


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if not isinstance(event, dict):
        return http_answer(400, {"error": "not an HTTP API event"})
    answer = receive_webhook(environment(), event)
    return http_answer(answer.status, answer.body)
