"""LiveChat webhooks over the HTTP API: checked, deduplicated, queued on the priority lane."""

from __future__ import annotations

import base64
import binascii
import json
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from leadsync.adapters.deliveries import WebhookDeliveries
from leadsync.adapters.queue import SqsQueue
from leadsync.mapping.fieldmap import default_field_map
from leadsync.runtime import metrics
from leadsync.runtime.clock import utc_now
from leadsync.runtime.config import WebhookEnv, load
from leadsync.runtime.observability import get_logger
from leadsync.runtime.secrets import load_credentials
from leadsync.webhook import accept as webhook

logger = get_logger()


@cache
def environment() -> WebhookEnv:
    env = load(WebhookEnv)
    default_field_map()
    return env


def _body(event: dict[str, Any]) -> bytes | None:
    body = event.get("body")
    if body is None:
        return None
    if not isinstance(body, str):
        raise ValueError("body is not text")
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("body is not valid base64") from None
    return body.encode()


def _answer(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps(body),
    }


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if not isinstance(event, dict):
        return _answer(400, {"error": "not an HTTP API event"})
    env = environment()
    secret = load_credentials(env.credentials_secret).livechat_webhook_secret
    if secret is None or not secret.get_secret_value():
        logger.error("webhook secret not configured: livechat_webhook_secret in the secret")
        return _answer(503, {"error": "webhook not configured"})
    try:
        body = _body(event)
    except ValueError as exc:
        return _answer(400, {"error": str(exc)})
    answer = webhook.handle(
        body,
        secret_key=secret.get_secret_value(),
        deliveries=WebhookDeliveries(env.state_table),
        queue=SqsQueue(env.priority_queue_url),
        now=utc_now(),
        field_map=default_field_map(),
    )
    logger.info("webhook answered", extra={"status": answer.status, **answer.body})
    result = str(answer.body.get("result") or f"http_{answer.status}")
    metrics.emit({"Webhooks": 1}, dimensions={"result": result})
    return _answer(answer.status, answer.body)
