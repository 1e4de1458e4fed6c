"""Bad input at the handlers, against moto and the Marketo simulator: events a function does
not expect, a queue message that is not JSON, and hostile chats all the way into Marketo."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import boto3
import pytest

from leadsync.adapters.state import StateStore
from leadsync.errors import InvalidEvent
from leadsync.sync.fetch import run as fetch
from leadsync.sync.fetch.batching import BatchLimits
from local.simulators.marketo import MarketoSimulator
from tests.support.chats import HOSTILE, hostile_entry
from tests.support.fakes import FakeMarketo, FakeQueue, FakeSource, FakeState
from tests.support.handlers import event, fresh_handler
from tests.support.lambda_context import FakeLambdaContext

pytestmark = pytest.mark.integration
SCHEDULE = event("fetch_schedule.json")
SQS_SAMPLE = event("upload_sqs.json")
SQS_RECORD: dict[str, Any] = SQS_SAMPLE["Records"][0]  # type: ignore[index]
API_GATEWAY = {
    "httpMethod": "POST",
    "path": "/sync",
    "headers": {"content-type": "application/json"},
    "body": '{"email": "jane.doe@example.com"}',
    "requestContext": {"stage": "prod", "requestId": "r-1"},
}
WRONG_FOR_A_SCHEDULE: list[tuple[object, str]] = [
    (None, "got nothing (null)"),
    ([SCHEDULE], "got a list of 1 item(s)"),
    (SQS_SAMPLE, "got records from aws:sqs"),
    (API_GATEWAY, "got an API Gateway"),
    ({"detail-type": "Scheduled Event", "source": "aws.events"}, "missing: account, id"),
    ({**SCHEDULE, "time": "not a time"}, "invalid: time"),
]
WRONG_FOR_THE_UPLOAD: list[tuple[object, str]] = [
    (None, "got nothing (null)"),
    ([SQS_RECORD], "got a list of 1 item(s)"),
    (SCHEDULE, "got 'Scheduled Event' from aws.events"),
    (API_GATEWAY, "got an API Gateway"),
    ({"Records": []}, "got an event with no records"),
    ({"Records": [{"eventSource": "aws:sqs", "body": "{}"}]}, "missing: Records.0.messageId"),
]
# what must never reach Marketo, a log line or a mail
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff<>]")


def _refusals(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [vars(r) for r in caplog.records if r.msg == "event refused"]


@pytest.mark.parametrize("name", ["fetch", "digest"])
@pytest.mark.parametrize(("wrong", "words"), WRONG_FOR_A_SCHEDULE)
def test_a_scheduled_function_refuses_any_other_event_and_logs_why(
    name: str,
    wrong: object,
    words: str,
    caplog: pytest.LogCaptureFixture,
    lambda_context: FakeLambdaContext,
) -> None:
    with caplog.at_level(logging.INFO), pytest.raises(InvalidEvent) as raised:
        fresh_handler(name).handler(wrong, lambda_context)
    message = str(raised.value)
    assert message.startswith("expected an EventBridge Scheduled Event; ")
    assert words in message
    [logged] = _refusals(caplog)
    assert logged["levelno"] == logging.ERROR
    assert logged["problem"] in message
    assert "jane.doe" not in json.dumps(logged, default=str)  # the event's content stays out


def _writes(marketo: MarketoSimulator) -> list[str]:
    return [r["action"] for r in marketo.audit()["requests"] if str(r["action"]).startswith("sync")]


@pytest.mark.parametrize(("wrong", "words"), WRONG_FOR_THE_UPLOAD)
def test_the_upload_refuses_any_other_event_and_logs_why(
    wrong: object,
    words: str,
    upload: ModuleType,
    marketo: MarketoSimulator,
    caplog: pytest.LogCaptureFixture,
    lambda_context: FakeLambdaContext,
) -> None:
    with caplog.at_level(logging.INFO), pytest.raises(InvalidEvent) as raised:
        upload.handler(wrong, lambda_context)
    message = str(raised.value)
    assert message.startswith("expected an SQS event; ")
    assert words in message
    [logged] = _refusals(caplog)
    assert logged["problem"] in message
    assert _writes(marketo) == []


def _dead_letters(url: str) -> list[dict[str, Any]]:
    client = boto3.client("sqs")
    found: list[dict[str, Any]] = []
    while messages := client.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=0
    ).get("Messages", []):
        found.extend(messages)  # type: ignore[arg-type]
    return found


def test_a_message_that_is_not_json_goes_to_the_dead_letter_queue_at_once(
    upload: ModuleType,
    marketo: MarketoSimulator,
    state_table: str,
    queues: dict[str, str],
    lambda_context: FakeLambdaContext,
) -> None:
    marketo.seed_leads([{"id": 1042, "email": "max.mustermann@example.org", "city": None}])
    body = 'not json: <script>alert("x")</script> Zoë \u202e\n{"records": ['
    poison = {**SQS_RECORD, "messageId": "poison-1", "body": body}

    response = upload.handler({"Records": [SQS_RECORD, poison]}, lambda_context)

    assert response == {"batchItemFailures": []}  # dealt with: not retried
    [letter] = _dead_letters(queues["dlq"])
    assert letter["Body"] == body  # byte for byte
    assert letter["MessageAttributes"]["error_code"]["StringValue"] == "invalid_message"
    leads = {lead["email"]: lead for lead in marketo.leads()}
    assert leads["jane.doe@example.com"]["country"] == "United States"
    assert leads["max.mustermann@example.org"]["city"] == "Berlin"
    errors = StateStore(state_table).errors_between(None, datetime.now(UTC))
    assert any("invalid_message" in (error.reason, error.code) for error in errors)


def test_hostile_chats_reach_marketo_clean_and_whole(
    upload: ModuleType,
    marketo: MarketoSimulator,
    state_table: str,
    lambda_context: FakeLambdaContext,
) -> None:
    entries = [
        hostile_entry(f"H{i}", value, email=f"hostile{i}@example.com")
        for i, value in enumerate(HOSTILE)
    ]
    queue = FakeQueue()
    summary = fetch.run(
        source=FakeSource(entries),
        state=FakeState(),
        queue=queue,
        destination=FakeMarketo(),
        settings=fetch.FetchSettings(limits=BatchLimits(50, 1_000_000)),
    )
    assert (summary.chats, summary.visitors, summary.rejected) == (len(HOSTILE),) * 2 + (0,)
    records = [
        {**SQS_RECORD, "messageId": f"hostile-{i}", "body": batch.model_dump_json()}
        for i, batch in enumerate(queue.batches)
    ]

    assert upload.handler({"Records": records}, lambda_context) == {"batchItemFailures": []}

    leads = {lead["email"]: lead for lead in marketo.leads()}
    assert set(leads) == {f"hostile{i}@example.com" for i in range(len(HOSTILE))}
    for lead in leads.values():
        for name, value in lead.items():
            if isinstance(value, str):
                text = value.replace("%3C", "").replace("%3E", "")
                assert not _UNSAFE.search(text), (lead["email"], name, value[:80])
                assert len(value) <= (65_535 if name == "livechatTags" else 255)
        assert lead["livechatChatCount"] == 1
    assert StateStore(state_table).errors_between(None, datetime.now(UTC)) == []
