"""The Lambda events leadsync accepts, as models; anything else is refused clearly.

A refusal raises InvalidEvent with a message that says what was expected and what came
instead, and logs it (without the event's content, which may hold personal data).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, NoReturn, TypeGuard

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from leadsync.errors import InvalidEvent
from leadsync.mapping.sanitize import clean_text
from leadsync.runtime.observability import get_logger

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
    from aws_lambda_powertools.utilities.typing import LambdaContext

SCHEDULED = "an EventBridge Scheduled Event"
SQS = "an SQS event"
_MAX_KEYS = 20
_SCALARS = {str: "a string", bool: "a boolean", int: "a number", float: "a number"}


class ScheduledEvent(BaseModel):
    """An EventBridge rule's `Scheduled Event` (what SAM's `Schedule` event source sends)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    id: str
    version: str = "0"
    detail_type: Literal["Scheduled Event"] = Field(alias="detail-type")
    source: Literal["aws.events"]
    account: str
    time: AwareDatetime
    region: str
    resources: list[str] = Field(default_factory=list)
    detail: dict[str, Any] = Field(default_factory=dict)


class SqsMessage(BaseModel):
    """One record of an SQS event source mapping's batch: what the upload needs of it."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    message_id: str = Field(alias="messageId", min_length=1)
    receipt_handle: str = Field(alias="receiptHandle", min_length=1)
    body: str
    event_source: Literal["aws:sqs"] = Field(alias="eventSource")
    event_source_arn: str = Field(default="", alias="eventSourceARN")
    attributes: dict[str, Any] = Field(default_factory=dict)
    message_attributes: dict[str, Any] = Field(default_factory=dict, alias="messageAttributes")


class SqsEvent(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True)

    records: list[SqsMessage] = Field(alias="Records", min_length=1)


def parse_scheduled_event(event: object) -> ScheduledEvent:
    """The fetch's and the digest's trigger; anything else raises InvalidEvent."""
    return _parse(ScheduledEvent, SCHEDULED, event)


def parse_sqs_event(event: object) -> SqsEvent:
    """The upload's trigger: a batch of SQS messages; anything else raises InvalidEvent.

    Only the envelope is checked here: a message whose body is not a batch is the
    upload's to deal with, one message at a time.
    """
    return _parse(SqsEvent, SQS, event)


def _parse[Event: BaseModel](model: type[Event], expected: str, event: object) -> Event:
    other = _other_kind(event, expected=expected)
    if other is not None:
        _refuse(expected, f"got {other}", event)
    try:
        return model.model_validate(event)
    except ValidationError as exc:
        _refuse(expected, _problems(exc), event)


def http_body(event: Mapping[str, Any]) -> bytes | None:
    """An HTTP API request's body as bytes (decoded when API Gateway sent it as base64), or
    None when it has none; ValueError says why a body cannot be read."""
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


def http_answer(
    status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """An HTTP API answer with a JSON body, and `headers` besides its content type."""
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json", **(headers or {})},
        "body": json.dumps(body),
    }


def serve_http(
    app: APIGatewayHttpResolver, event: object, context: LambdaContext
) -> dict[str, Any]:
    """`app`'s answer to an HTTP API request (payload format 2.0): its route's, or the
    resolver's 404 when none matches; anything that is not such a request is answered 400."""
    if not _is_http_api_request(event):
        return http_answer(400, {"error": "not an HTTP API event"})
    return app.resolve(event, context)


def _is_http_api_request(event: object) -> TypeGuard[dict[str, Any]]:
    """Whether the event holds what a route is found by: the path, the stage and the method."""
    if not isinstance(event, dict) or not isinstance(event.get("rawPath"), str):
        return False
    context = event.get("requestContext")
    if not isinstance(context, dict) or not isinstance(context.get("stage"), str):
        return False
    http = context.get("http")
    return isinstance(http, dict) and isinstance(http.get("method"), str)


def describe(event: object) -> str:
    """What an event looks like, in a few words, without its content."""
    if event is None:
        return "nothing (null)"
    if isinstance(event, list):
        return f"a list of {len(event)} item(s)"
    if not isinstance(event, dict):
        return _SCALARS.get(type(event), f"a {type(event).__name__}")
    if not event:
        return "an empty object"
    records = event.get("Records")
    if records is not None and not isinstance(records, list):
        return "an event whose Records is not a list"
    if isinstance(records, list):
        sources = _sources(records)
        if not records:
            return "an event with no records"
        return f"records from {', '.join(sorted(sources))}" if sources else "records of no source"
    if "httpMethod" in event or "routeKey" in event or "requestContext" in event:
        return "an API Gateway or function URL request"
    if "detail-type" in event or "source" in event:
        kind = clean_text(event.get("detail-type"), 60) or "an event"
        source = clean_text(event.get("source"), 60) or "no source"
        return f"'{kind}' from {source}"
    return "an object with keys " + ", ".join(_keys(event))


def _sources(records: list[Any]) -> set[str]:
    found = (
        record.get("eventSource") or record.get("EventSource")
        for record in records
        if isinstance(record, dict)
    )
    return {clean_text(source, 40) or "?" for source in found if source is not None}


def _other_kind(event: object, *, expected: str) -> str | None:
    """What the event is when it is plainly another kind than expected, else None (then
    the model says which fields are missing or wrong)."""
    if not isinstance(event, dict) or not event:
        return describe(event)
    foreign = {"Records", "httpMethod", "routeKey", "requestContext"}
    if expected == SCHEDULED:
        if foreign & set(event):
            return describe(event)
        kind, source = event.get("detail-type"), event.get("source")
        if (kind is not None and kind != "Scheduled Event") or (
            source is not None and source != "aws.events"
        ):
            return describe(event)
        return None
    records = event.get("Records")
    if not isinstance(records, list) or not records or _sources(records) - {"aws:sqs"}:
        return describe(event)
    return None


def _problems(exc: ValidationError) -> str:
    missing: set[str] = set()
    invalid: set[str] = set()
    for error in exc.errors():
        location = ".".join(str(part) for part in error["loc"]) or "event"
        (missing if error["type"] == "missing" else invalid).add(location)
    parts = []
    if missing:
        parts.append("missing: " + ", ".join(sorted(missing)[:10]))
    if invalid:
        parts.append("invalid: " + ", ".join(sorted(invalid)[:10]))
    return "; ".join(parts)


def _keys(event: dict[Any, Any]) -> list[str]:
    return [clean_text(str(key), 40) or "?" for key in list(event)[:_MAX_KEYS]]


def _refuse(expected: str, problem: str, event: object) -> NoReturn:
    message = f"expected {expected}; {problem}"
    get_logger().error(
        "event refused",
        extra={
            "expected": expected,
            "problem": problem,
            "event_keys": _keys(event) if isinstance(event, dict) else [],
        },
    )
    raise InvalidEvent(message)
