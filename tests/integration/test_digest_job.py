"""The digest function against moto in server mode: what the admin receives, and when."""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from leadsync.adapters.dead_letters import ERROR_CODE, ERROR_MESSAGE, DeadLetters
from leadsync.adapters.mail import Mailer
from leadsync.adapters.state import StateStore
from leadsync.adapters.stats import DailyStats
from leadsync.errors import DependencyError
from leadsync.limiter.api import Outcome
from leadsync.limiter.config import LimiterConfig
from leadsync.limiter.dynamodb import DynamoDBLimiter
from leadsync.limiter.item import key
from leadsync.limiter.readout import LimiterReadout
from leadsync.models import Rejection, RejectionReason
from leadsync.sync.failures import ErrorEntry, from_rejection
from tests.support.digest import ZONE, accepted_mail, dead_letter_batch, invoke, verified_sender
from tests.support.lambda_context import FakeLambdaContext
from tests.support.records import refused_records

pytestmark = pytest.mark.integration
LIMITS = LimiterConfig(daily_cap=25_000, daily_quota=50_000, quota_timezone=ZONE)


def seed_failures(state_table: str, dlq: str) -> None:
    now = datetime.now(UTC) - timedelta(minutes=5)
    rejections: list[ErrorEntry] = [
        from_rejection(Rejection(chat_id=f"R{i}", reason=RejectionReason.MISSING_EMAIL), at=now)
        for i in range(3)
    ]
    refused = refused_records(
        2,
        "Marketo refused jane.doe@example.com",
        now,
        correlation_id="run-7",
        request="createOnly 2 records",
    )
    StateStore(state_table).record_errors([*rejections, *refused])
    letters = DeadLetters(dlq)
    letters.send_batch(dead_letter_batch("run-1", "HTTP 503", "Service Unavailable"))
    letters.send_batch(dead_letter_batch("run-2", "HTTP 503", "Service Unavailable"))
    letters.send("not a batch", {ERROR_CODE: "invalid_message", ERROR_MESSAGE: "not JSON"})


def use_limiter(state_table: str, calls: int, instance_total: int) -> None:
    """Calls granted and given back, then the instance's usage learned, as fetch and upload do."""
    limiter = DynamoDBLimiter(state_table, replace(LIMITS, burst=10))
    for _ in range(calls):
        permit = limiter.acquire(deadline_monotonic=float("inf"))
        limiter.release(permit, Outcome.DONE)
    limiter.instance_usage(instance_total)


@pytest.fixture
def digest_env(
    monkeypatch: pytest.MonkeyPatch, state_table: str, queues: dict[str, str]
) -> dict[str, str]:
    env = {
        "STATE_TABLE": state_table,
        "CREDENTIALS_SECRET": "unused",
        "DEAD_LETTER_QUEUE_URL": queues["dlq"],
        "ADMIN_EMAIL": "admin@example.com,ops@example.com",
        "SENDER_EMAIL": verified_sender(),
        "MARKETO_DAILY_CAP": "25000",
        "MARKETO_DAILY_QUOTA": "50000",
        "MARKETO_QUOTA_TIMEZONE": ZONE,
        "DIGEST_SEND_ALL_CLEAR": "false",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def dlq_depth(url: str) -> int:
    attributes = boto3.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def limiter_item(state_table: str) -> dict[str, Any]:
    item: dict[str, Any] = boto3.client("dynamodb").get_item(
        TableName=state_table, Key=key("marketo"), ConsistentRead=True
    )["Item"]
    return item


def test_the_admin_gets_failures_by_cause_totals_and_budget(
    moto_server: str,
    state_table: str,
    queues: dict[str, str],
    digest_env: dict[str, str],
    lambda_context: FakeLambdaContext,
) -> None:
    seed_failures(state_table, queues["dlq"])
    DailyStats(state_table, zone=ZONE).add(
        {
            "chats_read": 120,
            "leads_created": 40,
            "leads_updated": 30,
            "chats_rejected": 3,
            "records_failed": 2,
            "marketo_calls": 9,
            "marketo_calls_hour_08": 2,
            "marketo_calls_hour_14": 7,
        }
    )
    use_limiter(state_table, calls=3, instance_total=100)
    limiter_before = limiter_item(state_table)

    summary = invoke(lambda_context)

    assert summary["sent"] is True
    assert (summary["errors"], summary["dead_letters"]) == (5, 3)
    mail = accepted_mail(moto_server, summary["message_id"])
    assert mail["subject"] == "leadsync digest: 5 new error(s), 3 dead letter(s)"
    assert mail["destinations"]["ToAddresses"] == ["admin@example.com", "ops@example.com"]
    text, page = mail["text"], mail["html"]
    for where, cause, count in (
        ("error store", "rejected / missing_email", 3),
        ("error store", "undeliverable / marketo_1003", 2),
        ("dead-letter queue", "HTTP 503", 2),
        ("dead-letter queue", "invalid_message", 1),
    ):
        assert re.search(rf"\n  {where} +{re.escape(cause)} +{count}\n", text), cause
        assert re.search(
            rf"<td[^>]*>{where}</td><td[^>]*>{re.escape(cause)}</td><td[^>]*>{count}<", page
        )
    assert "dead-letter queue / HTTP 503: 2 waiting, 2 new since the last digest, 4 record(s)" in (
        text
    )
    assert "correlation run-1 | 4 attempt(s) | first failure " in text
    assert "| 2 record(s) | request createOnly 2 records | HTTP 503: Service Unavailable" in text
    assert "Busiest hour" in text
    assert "14:00\u201315:00 America/Chicago, 7 calls" in text
    assert "leadsync used 3 of its cap 25,000, 24,997 left; the instance used 100 of 50,000." in (
        text
    )
    assert "<td" in page
    assert "rejected / missing_email" in page
    assert "14:00\u201315:00 America/Chicago, 7 calls" in page
    for part in (text, page):
        assert "@example.com" not in part.replace("admin@example.com", "")
    # read, not taken: the dead letters wait for the operator, the limiter is untouched
    assert dlq_depth(queues["dlq"]) == 3
    assert limiter_item(state_table) == limiter_before
    assert StateStore(state_table).get_digest_watermark() is not None


def test_a_refused_send_marks_nothing_and_the_next_run_sends_it_all(
    moto_server: str,
    state_table: str,
    queues: dict[str, str],
    digest_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    lambda_context: FakeLambdaContext,
) -> None:
    seed_failures(state_table, queues["dlq"])
    monkeypatch.setenv("SENDER_EMAIL", f"unverified-{uuid.uuid4().hex[:8]}@example.com")
    with pytest.raises(DependencyError) as refused:
        invoke(lambda_context)
    assert refused.value.dependency == "ses"
    assert StateStore(state_table).get_digest_watermark() is None

    monkeypatch.setenv("SENDER_EMAIL", digest_env["SENDER_EMAIL"])
    summary = invoke(lambda_context)
    assert summary["sent"] is True
    assert summary["since"] is None
    assert (summary["errors"], summary["dead_letters"]) == (5, 3)
    mark = StateStore(state_table).get_digest_watermark()
    assert mark is not None
    assert mark.isoformat().replace("+00:00", "Z") == summary["until"]


@pytest.mark.parametrize("send_all_clear", [False, True])
def test_a_quiet_day_is_mailed_only_when_asked(
    moto_server: str,
    state_table: str,
    digest_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    lambda_context: FakeLambdaContext,
    send_all_clear: bool,
) -> None:
    monkeypatch.setenv("DIGEST_SEND_ALL_CLEAR", str(send_all_clear).lower())
    summary = invoke(lambda_context)
    assert summary["sent"] is send_all_clear
    assert (summary["errors"], summary["dead_letters"]) == (0, 0)
    assert StateStore(state_table).get_digest_watermark() is not None
    if send_all_clear:
        mail = accepted_mail(moto_server, summary["message_id"])
        assert mail["subject"] == "leadsync digest: all clear"
        assert "No new errors; the dead-letter queue is empty." in mail["text"]
        assert "No new errors; the dead-letter queue is empty." in mail["html"]
    else:
        assert summary["message_id"] is None


def test_the_readout_sees_what_the_limiter_counted_and_changes_nothing(state_table: str) -> None:
    readout = LimiterReadout(state_table, LIMITS)
    empty = readout.read()
    assert (empty.used, empty.left, empty.instance_used) == (0, 25_000, None)
    assert (
        boto3.client("dynamodb").get_item(TableName=state_table, Key=key("marketo")).get("Item")
        is None
    )
    use_limiter(state_table, calls=4, instance_total=1_000)
    before = limiter_item(state_table)
    seen = readout.read()
    assert (seen.used, seen.left, seen.instance_used, seen.zone) == (4, 24_996, 1_000, ZONE)
    assert seen.day == DynamoDBLimiter(state_table, LIMITS).snapshot().day
    assert limiter_item(state_table) == before


def test_the_local_ses_keeps_both_parts_of_what_it_accepted(moto_server: str) -> None:
    text = "plain part\nsecond line"
    page = "<!DOCTYPE html><p>html part</p>"
    message_id = Mailer(verified_sender()).send(["admin@example.com"], "both parts", text, page)
    mail = accepted_mail(moto_server, message_id)
    assert (mail["subject"], mail["text"], mail["html"]) == ("both parts", text, page)
