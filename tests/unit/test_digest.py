from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leadsync.digest import group_errors, render
from leadsync.digest_job import run
from leadsync.errors import DependencyError
from leadsync.failures import ErrorEntry, from_record, from_rejection
from leadsync.models import Rejection, RejectionReason, Visitor
from tests.support.fakes import FakeMailer, FakeQueue, FakeState
from tests.support.records import record_for

NOW = datetime(2026, 1, 15, 13, tzinfo=UTC)
HOSTILE = "<script>alert('x')</script>"


def _entries() -> list[ErrorEntry]:
    at = NOW - timedelta(hours=2)
    missing = [
        from_rejection(
            Rejection(chat_id=f"C{i}", reason=RejectionReason.MISSING_EMAIL, detail=HOSTILE),
            at=at,
            correlation_id="run-1",
        )
        for i in range(7)
    ]
    invalid = from_rejection(
        Rejection(
            chat_id="C9", reason=RejectionReason.INVALID_EMAIL, value="john smith@example.com"
        ),
        at=at,
    )
    visitor = Visitor(email="jane.doe@example.com", first_name=HOSTILE, chat_ids=["C10"])
    undeliverable = from_record(
        record_for(visitor), reason="record_too_large", detail="big", at=at, correlation_id="run-1"
    )
    return [*missing, missing[0], invalid, undeliverable]


def test_groups_count_distinct_failures_biggest_first() -> None:
    groups = group_errors(_entries(), max_examples=3)
    assert [(g.kind, g.reason, g.count, g.occurrences) for g in groups] == [
        ("rejected", "missing_email", 7, 8),
        ("rejected", "invalid_email", 1, 1),
        ("undeliverable", "record_too_large", 1, 1),
    ]
    assert len(groups[0].examples) == 3


def test_render_escapes_html_and_masks_emails() -> None:
    digest = render(_entries(), 4, since=NOW - timedelta(days=1), until=NOW)
    assert digest.subject == "leadsync digest: 9 new error(s), 4 dead letter(s)"
    assert HOSTILE not in digest.html
    assert "&lt;script&gt;" in digest.html
    for text in (digest.text, digest.html):
        assert "jane.doe@example.com" not in text
        assert "john smith@example.com" not in text
    assert "j***@e***.com" in digest.text
    assert "C10" in digest.text
    assert "dead" in digest.text.lower()


def test_all_clear() -> None:
    digest = render([], 0, since=None, until=NOW)
    assert digest.all_clear
    assert digest.subject == "leadsync digest: all clear"
    assert "No new errors." in digest.text


def test_job_sends_then_moves_the_watermark() -> None:
    state = FakeState(digest_mark=NOW - timedelta(days=1), errors=_entries())
    mailer = FakeMailer()
    summary = run(
        state=state,
        dead_letters=FakeQueue(depth=2),
        mailer=mailer,
        recipients=["admin@example.com"],
        now=lambda: NOW,
    )
    assert summary.sent
    assert summary.errors == 9
    assert summary.dead_letters == 2
    assert mailer.sent[0]["to"] == ["admin@example.com"]
    assert state.digest_mark == NOW


def test_job_keeps_the_watermark_when_ses_refuses() -> None:
    before = NOW - timedelta(days=1)
    state = FakeState(digest_mark=before, errors=_entries())
    mailer = FakeMailer(error=DependencyError("refused", dependency="ses"))
    with pytest.raises(DependencyError):
        run(
            state=state,
            dead_letters=FakeQueue(),
            mailer=mailer,
            recipients=["admin@example.com"],
            now=lambda: NOW,
        )
    assert state.digest_mark == before


@pytest.mark.parametrize(("send_all_clear", "sent"), [(False, 0), (True, 1)])
def test_job_all_clear_is_sent_only_when_asked(send_all_clear: bool, sent: int) -> None:
    state, mailer = FakeState(), FakeMailer()
    summary = run(
        state=state,
        dead_letters=FakeQueue(),
        mailer=mailer,
        recipients=["admin@example.com"],
        send_all_clear=send_all_clear,
        now=lambda: NOW,
    )
    assert len(mailer.sent) == sent
    assert summary.sent is bool(sent)
    assert state.digest_mark == NOW
