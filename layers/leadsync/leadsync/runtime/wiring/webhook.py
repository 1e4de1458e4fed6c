"""What a LiveChat webhook delivery needs: the webhook's secret key from the credentials, the
deliveries already taken (state table) and the priority queue."""

from __future__ import annotations

from typing import TYPE_CHECKING

from leadsync.adapters.deliveries import WebhookDeliveries
from leadsync.adapters.queue import SqsQueue
from leadsync.mapping.fieldmap import default_field_map
from leadsync.runtime import metrics
from leadsync.runtime.clock import utc_now
from leadsync.runtime.config import WebhookEnv
from leadsync.runtime.events import http_body
from leadsync.runtime.observability import get_logger
from leadsync.runtime.secrets import load_credentials
from leadsync.webhook import accept as webhook

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2


def receive_webhook(env: WebhookEnv, request: APIGatewayProxyEventV2) -> webhook.Answer:
    """One HTTP API request to the webhook route, answered (503 while no secret key is
    configured, 400 when the body cannot be read); what was answered is logged and counted."""
    logger = get_logger()
    secret = load_credentials(env.credentials_secret).livechat_webhook_secret
    if secret is None or not secret.get_secret_value():
        logger.error("webhook secret not configured: livechat_webhook_secret in the secret")
        return webhook.Answer(503, {"error": "webhook not configured"})
    try:
        body = http_body(request)
    except ValueError as exc:
        return webhook.Answer(400, {"error": str(exc)})
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
    return answer
