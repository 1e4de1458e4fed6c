from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from leadsync.errors import InvalidEvent
from leadsync.runtime.events import (
    http_answer,
    http_body,
    parse_scheduled_event,
    parse_sqs_event,
)
from leadsync.sync.messages import parse_batch

EVENTS = Path(__file__).resolve().parents[2] / "events"


@pytest.mark.parametrize("name", ["fetch_schedule.json", "digest_schedule.json"])
def test_schedule_samples_parse(name: str) -> None:
    event = parse_scheduled_event(json.loads((EVENTS / name).read_text()))
    assert event.detail_type == "Scheduled Event"
    assert event.source == "aws.events"


def test_upload_sample_holds_valid_batches_without_real_addresses() -> None:
    event = json.loads((EVENTS / "upload_sqs.json").read_text())
    for record in event["Records"]:
        batch = parse_batch(record["body"])
        for item in batch.records:
            assert item.email.endswith(("@example.com", "@example.org"))


@pytest.mark.parametrize(
    "event",
    [
        {},
        {"Records": []},
        {
            "detail-type": "Object Created",
            "source": "aws.s3",
            "id": "1",
            "account": "1",
            "time": "2026-01-15T13:00:00Z",
            "region": "us-east-1",
        },
        "not an event",
    ],
)
def test_anything_else_is_refused(event: Any) -> None:
    with pytest.raises(InvalidEvent, match="Scheduled Event"):
        parse_scheduled_event(event)


def test_upload_sample_is_an_sqs_event() -> None:
    event = json.loads((EVENTS / "upload_sqs.json").read_text())
    parsed = parse_sqs_event(event)
    assert [m.message_id for m in parsed.records] == [r["messageId"] for r in event["Records"]]


@pytest.mark.parametrize("name", ["fetch_schedule.json", "digest_schedule.json"])
def test_a_schedule_is_not_an_sqs_event(name: str) -> None:
    with pytest.raises(InvalidEvent, match="expected an SQS event; got 'Scheduled Event'"):
        parse_sqs_event(json.loads((EVENTS / name).read_text()))


def test_webhook_sample_is_an_incoming_chat_with_a_placeholder_secret() -> None:
    event = json.loads((EVENTS / "webhook_incoming_chat.json").read_text())
    assert event["routeKey"] == "POST /webhooks/livechat"
    delivery = json.loads(event["body"])
    assert delivery["action"] == "incoming_chat"
    assert delivery["secret_key"].startswith("REPLACE-WITH")
    assert delivery["payload"]["chat"]["users"][0]["email"].endswith("@example.com")


def test_health_sample_is_a_get_of_the_health_route() -> None:
    event = json.loads((EVENTS / "health_get.json").read_text())
    assert event["routeKey"] == "GET /health"
    assert event["body"] is None


def test_an_http_body_is_read_as_sent_or_from_base64() -> None:
    assert http_body({"body": '{"a": 1}'}) == b'{"a": 1}'
    assert http_body({"body": "eyJhIjogMX0=", "isBase64Encoded": True}) == b'{"a": 1}'
    assert http_body({}) is None


@pytest.mark.parametrize(
    ("event", "why"),
    [
        ({"body": ["not", "text"]}, "body is not text"),
        ({"body": "not base64!", "isBase64Encoded": True}, "body is not valid base64"),
    ],
)
def test_an_http_body_that_cannot_be_read_says_why(event: dict[str, Any], why: str) -> None:
    with pytest.raises(ValueError, match=why):
        http_body(event)


def test_an_http_answer_is_json_with_its_headers() -> None:
    answer = http_answer(503, {"status": "unhealthy"}, {"cache-control": "no-store"})
    assert answer == {
        "statusCode": 503,
        "headers": {"content-type": "application/json", "cache-control": "no-store"},
        "body": '{"status": "unhealthy"}',
    }
