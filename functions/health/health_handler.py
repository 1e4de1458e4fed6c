"""Health over the HTTP API: 200 when leadsync is healthy, 503 with the reasons when not."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.utilities.typing import LambdaContext

from leadsync.runtime.config import HealthEnv, load
from leadsync.runtime.events import serve_http
from leadsync.runtime.observability import get_logger
from leadsync.runtime.wiring.deadline import InvocationDeadline
from leadsync.runtime.wiring.health import check_health

logger = get_logger()
app = APIGatewayHttpResolver()
deadline = InvocationDeadline()


@cache
def environment() -> HealthEnv:
    return load(HealthEnv)


@app.get("/health")
def health() -> Response[dict[str, Any]]:
    report = check_health(environment(), deadline)
    return Response(
        report.status,
        content_types.APPLICATION_JSON,
        report.body(),
        headers={"cache-control": "no-store"},
    )


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    deadline.start(context)
    return serve_http(app, event, context)
