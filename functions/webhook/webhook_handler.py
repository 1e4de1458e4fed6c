"""LiveChat webhooks over the HTTP API: checked, deduplicated, queued on the priority lane."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.utilities.typing import LambdaContext

from leadsync.mapping.fieldmap import default_field_map
from leadsync.runtime.config import WebhookEnv, load
from leadsync.runtime.events import serve_http
from leadsync.runtime.observability import get_logger
from leadsync.runtime.wiring.webhook import receive_webhook

logger = get_logger()
app = APIGatewayHttpResolver()


@cache
def environment() -> WebhookEnv:
    env = load(WebhookEnv)
    default_field_map()
    return env


@app.post("/webhooks/livechat")
def livechat_webhook() -> Response[dict[str, Any]]:
    answer = receive_webhook(environment(), app.current_event)
    return Response(answer.status, content_types.APPLICATION_JSON, answer.body)


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return serve_http(app, event, context)
