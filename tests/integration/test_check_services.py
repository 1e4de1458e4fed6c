"""`leadsync check` beyond Marketo, against the LiveChat simulator over HTTP and SES on moto
server: the token and its scopes, the archive retention, the webhook (found, registered by
--fix, never twice) and the SES identities, each failure one line with its fix."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest

from leadsync.adapters.mail import SendingIdentities
from leadsync.readiness.report import Report
from leadsync.readiness.service_checks import ServiceSetup, check_livechat, check_mail
from leadsync.sources.livechat import LiveChatClient
from leadsync.sources.livechat_config import LiveChatConfiguration
from local.simulators.livechat import (
    DEFAULT_TOKEN,
    FULL_SCOPES,
    GenerationParams,
    LiveChatSimulator,
)

pytestmark = pytest.mark.integration
NOW = datetime.now(UTC)
URL = "https://abc123.execute-api.us-east-1.amazonaws.com/webhooks/livechat"
CLIENT = "0f" * 16
SECRET = secrets.token_hex(16)


def _setup(**changes: object) -> ServiceSetup:
    base: dict[str, object] = {
        "retention_days": 60,
        "webhook_url": URL,
        "webhook_secret": SECRET,
        "client_id": CLIENT,
        "sender": "leadsync@example.com",
        "admins": ("admin@example.com",),
    }
    return ServiceSetup(**{**base, **changes})  # type: ignore[arg-type]


def _sim(scopes: tuple[str, ...] = FULL_SCOPES, months: int = 24) -> LiveChatSimulator:
    return LiveChatSimulator(
        GenerationParams(chats=3, seed=1),
        scopes=scopes,
        client_ids=(CLIENT,),
        archive_retention_months=months,
    )


def _check(sim: LiveChatSimulator, setup: ServiceSetup, *, fix: bool = False) -> Report:
    report = Report()
    archives = LiveChatClient(sim.account_id, DEFAULT_TOKEN, sim.base_url)
    config = LiveChatConfiguration(sim.account_id, DEFAULT_TOKEN, sim.base_url)
    check_livechat(archives, config, setup, report, now=NOW, fix=fix)
    return report


def _lines(report: Report) -> dict[str, str]:
    return {line.check: line.status for line in report.lines}


def test_fix_registers_the_webhook_once_and_everything_then_passes() -> None:
    with _sim() as sim:
        before = _check(sim, _setup())
        assert _lines(before) == {
            "livechat token": "passed",
            "livechat archive retention": "passed",
            "webhook secret": "passed",
            "webhook": "failed",
        }
        assert "leadsync check --fix" in before.lines[-1].fix
        fixed = _check(sim, _setup(), fix=True)
        assert _lines(fixed)["webhook"] == "fixed"
        again = _check(sim, _setup(), fix=True)
        assert _lines(again)["webhook"] == "passed"
        hooks = sim.webhooks()
        assert [(h.url, h.action, h.secret_key) for h in hooks] == [(URL, "incoming_chat", SECRET)]


def test_a_token_without_the_archive_scope_fails_with_the_scope_to_grant() -> None:
    with _sim(scopes=("webhooks.configuration:rw",)) as sim:
        report = _check(sim, _setup())
    assert [(line.check, line.status) for line in report.lines] == [("livechat token", "failed")]
    assert "chats--all:ro" in report.lines[0].fix


def test_a_token_without_the_webhook_scope_says_so_and_fix_creates_nothing() -> None:
    with _sim(scopes=("chats--all:ro",)) as sim:
        report = _check(sim, _setup(), fix=True)
        assert sim.webhooks() == []
    webhook = next(line for line in report.lines if line.check == "webhook")
    assert webhook.status == "failed"
    assert "webhooks.configuration:rw" in webhook.fix
    assert _lines(report)["livechat archive retention"] == "skipped"


def test_a_retention_shorter_than_the_stack_assumes_is_named() -> None:
    with _sim(months=2) as sim:
        report = _check(sim, _setup(retention_days=365))
    line = next(x for x in report.lines if x.check == "livechat archive retention")
    assert line.status == "failed"
    assert "LiveChatArchiveRetentionDays=60" in line.fix


def test_no_secret_and_no_client_id_each_fail_with_their_fix_and_leak_nothing() -> None:
    with _sim() as sim:
        report = _check(sim, _setup(webhook_secret=None, client_id=None), fix=True)
        assert sim.webhooks() == []
    assert _lines(report)["webhook secret"] == "failed"
    assert _lines(report)["webhook"] == "failed"
    assert "livechat_client_id" in report.lines[-1].fix
    assert DEFAULT_TOKEN not in report.text() + report.json()


def test_a_wrong_token_fails_the_token_line_only() -> None:
    with _sim() as sim:
        archives = LiveChatClient(sim.account_id, "wrong-token", sim.base_url)
        config = LiveChatConfiguration(sim.account_id, "wrong-token", sim.base_url)
        report = Report()
        check_livechat(archives, config, _setup(), report, now=NOW)
    assert [(line.check, line.status) for line in report.lines] == [("livechat token", "failed")]
    assert "wrong-token" not in report.text()


@pytest.fixture
def ses(moto_server: str) -> Iterator[object]:
    client = boto3.client("sesv2", region_name="us-east-1")
    made: list[str] = []

    def verify(address: str) -> None:
        client.create_email_identity(EmailIdentity=address)
        made.append(address)

    yield verify
    for address in made:
        client.delete_email_identity(EmailIdentity=address)


def test_ses_sender_and_sandbox_recipients(ses: object) -> None:
    assert callable(ses)
    run = uuid.uuid4().hex[:8]
    sender, admin, other = f"s-{run}@example.com", f"a-{run}@example.com", f"o-{run}@x.org"
    setup = _setup(sender=sender, admins=(admin, other))
    report = Report()
    check_mail(SendingIdentities(), setup, report)
    assert [(line.check, line.status) for line in report.lines] == [
        ("ses sender", "failed"),
        ("ses sandbox", "passed"),
        ("ses recipient", "failed"),
        ("ses recipient", "failed"),
    ]
    assert admin not in report.text()  # masked
    ses(sender)
    ses(admin)
    report = Report()
    check_mail(SendingIdentities(), setup, report)
    assert [line.status for line in report.lines] == ["passed", "passed", "passed", "failed"]
    assert "production access" in report.lines[-1].fix
