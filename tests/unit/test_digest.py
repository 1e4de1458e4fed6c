from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest

from leadsync.adapters.dead_letters import (
    ATTEMPTS,
    CORRELATION_ID,
    ERROR_CODE,
    ERROR_MESSAGE,
    DeadLetter,
)
from leadsync.errors import DependencyError
from leadsync.limiter.config import LimiterConfig
from leadsync.limiter.readout import BudgetReadout, budget_today
from leadsync.limiter.state import LimiterState
from leadsync.models import Rejection, RejectionReason, Visitor
from leadsync.report.digest import render
from leadsync.report.digest_job import day_totals
from leadsync.report.failures import group_dead_letters, group_errors
from leadsync.report.totals import DayTotals, Totals
from leadsync.sync.failures import ErrorEntry, ErrorKind, from_record, from_rejection
from leadsync.sync.messages import FailureNote, SyncBatch
from tests.support.digest_fakes import (
    FakeBudget,
    FakeDailyStats,
    FakeDeadLetters,
    FakeMailer,
    run_digest,
)
from tests.support.fakes import FakeState
from tests.support.records import record_for

NOW = datetime(2026, 1, 15, 13, tzinfo=UTC)  # 07:00 in Chicago
HOSTILE = "<script>alert('x')</script>"
ZONE = "America/Chicago"


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


def _batch(
    correlation: str,
    records: int,
    notes: list[tuple[datetime, str, str]],
    *,
    request: str = "createOnly 2 records",
) -> SyncBatch:
    visitors = [
        Visitor(email=f"person{i}@example.com", first_name="Jane", chat_ids=[f"{correlation}-{i}"])
        for i in range(records)
    ]
    return SyncBatch(
        correlation_id=correlation,
        created_at=NOW - timedelta(days=2),
        records=[record_for(v) for v in visitors],
        attempts=len(notes),
        failures=[
            FailureNote(at=at, attempt=i + 1, code=code, message=message, request=request)
            for i, (at, code, message) in enumerate(notes)
        ],
    )


def _letter(message_id: str, body: str, **attributes: str) -> DeadLetter:
    return DeadLetter(
        message_id=message_id,
        receipt_handle=f"rh-{message_id}",
        body=body,
        attributes=attributes,
        sent_at=NOW - timedelta(hours=1),
    )


def _letters() -> list[DeadLetter]:
    old = NOW - timedelta(days=3)
    recent = NOW - timedelta(hours=3)
    unavailable = [
        _letter(
            f"m{i}",
            _batch(
                f"run-{i}",
                2,
                [
                    (at - timedelta(minutes=30), "HTTP 503", "Service Unavailable"),
                    (at, "HTTP 503", "Service Unavailable"),
                ],
            ).model_dump_json(),
        )
        for i, at in enumerate([old, recent, recent])
    ]
    timeout = _letter(
        "m9",
        _batch("run-9", 1, [(recent, "local:timeout", "no answer in 30 s")]).model_dump_json(),
    )
    broken = _letter(
        "m10",
        "this is not a batch",
        **{ERROR_CODE: "invalid_message", ERROR_MESSAGE: "body is not JSON", ATTEMPTS: "1"},
    )
    return [*unavailable, timeout, broken]


def _readout(**changes: object) -> BudgetReadout:
    values: dict[str, object] = {
        "day": "2026-01-15",
        "zone": ZONE,
        "used": 1204,
        "cap": 25_000,
        "quota": 50_000,
        "instance_used": 3010,
        "left": 23_796,
        "instance_binds": False,
        "quota_exhausted": False,
    }
    values.update(changes)
    return BudgetReadout(**values)  # type: ignore[arg-type]


def _totals() -> Totals:
    yesterday = {
        "chats_read": 1200,
        "leads_created": 700,
        "leads_updated": 350,
        "chats_rejected": 150,
        "records_failed": 4,
        "marketo_calls": 1500,
        "marketo_calls_hour_09": 300,
        "marketo_calls_hour_14": 412,
        "marketo_calls_hour_15": 412,
    }
    today = {"chats_read": 80, "leads_created": 5}  # no Marketo call counted yet today
    return Totals(
        zone=ZONE,
        days=[
            DayTotals(day=date(2026, 1, 14), counters=yesterday),
            DayTotals(day=date(2026, 1, 15), counters=today, complete=False),
        ],
        budget=_readout(),
    )


# Grouping ---------------------------------------------------------------------------------


def test_groups_count_distinct_failures_biggest_first() -> None:
    groups = group_errors(_entries(), max_examples=3)
    assert [(g.kind, g.reason, g.count, g.occurrences) for g in groups] == [
        ("rejected", "missing_email", 7, 8),
        ("rejected", "invalid_email", 1, 1),
        ("undeliverable", "record_too_large", 1, 1),
    ]
    assert len(groups[0].examples) == 3


def test_dead_letters_group_by_cause_with_history_in_each_example() -> None:
    groups = group_dead_letters(_letters(), since=NOW - timedelta(days=1))
    assert [(g.code, g.count, g.new, g.records) for g in groups] == [
        ("HTTP 503", 3, 2, 6),
        ("invalid_message", 1, 1, 0),
        ("local:timeout", 1, 1, 1),
    ]
    example = groups[0].examples[0]
    assert example.startswith("correlation run-0 | 2 attempt(s) | ")
    assert "first failure 2026-01-12 12:30 UTC" in example
    assert "last failure 2026-01-12 13:00 UTC" in example
    assert "2 record(s)" in example
    assert "request createOnly 2 records" in example
    assert example.endswith("HTTP 503: Service Unavailable")
    assert groups[1].examples == [
        "message m10 | 1 attempt(s) | dead-lettered 2026-01-15 12:00 UTC"
        " | body is not a batch | invalid_message: body is not JSON"
    ]


def test_dead_letter_examples_are_clipped_and_hold_no_personal_data() -> None:
    message = "lead jane.doe@example.com from 203.0.113.7 refused: " + "x" * 900
    letter = _letter("m1", _batch("run-1", 1, [(NOW, "1003", message)]).model_dump_json())
    (group,) = group_dead_letters([letter])
    (example,) = group.examples
    assert "jane.doe@example.com" not in example
    assert "203.0.113.7" not in example
    assert "j***@e***.com" in example
    assert "203.0.113.0/24" in example
    assert "person0" not in example  # the records' e-mails are never listed
    assert len(example) < 500


# Rendering --------------------------------------------------------------------------------


def test_render_escapes_html_and_masks_emails() -> None:
    digest = render(_entries(), depth=4, since=NOW - timedelta(days=1), until=NOW)
    assert digest.subject == "leadsync digest: 9 new error(s), 4 dead letter(s)"
    assert HOSTILE not in digest.html
    assert "&lt;script&gt;" in digest.html
    for text in (digest.text, digest.html):
        assert "jane.doe@example.com" not in text
        assert "john smith@example.com" not in text
    assert "j***@e***.com" in digest.text
    assert "C10" in digest.text
    assert "dead-letter queue" in digest.text


def test_summary_table_lists_every_cause_with_its_count() -> None:
    digest = render(_entries(), _letters(), since=NOW - timedelta(days=1), until=NOW)
    assert digest.subject == "leadsync digest: 9 new error(s), 5 dead letter(s)"
    rows = [
        re.split(r"\s{2,}", line.strip())
        for line in digest.text.split("FAILURES BY CAUSE\n")[1].split("\n\n")[0].splitlines()
    ]
    assert rows == [
        ["where", "cause", "count"],
        ["error store", "rejected / missing_email", "7"],
        ["error store", "rejected / invalid_email", "1"],
        ["error store", "undeliverable / record_too_large", "1"],
        ["dead-letter queue", "HTTP 503", "3"],
        ["dead-letter queue", "invalid_message", "1"],
        ["dead-letter queue", "local:timeout", "1"],
    ]
    assert "dead-letter queue / HTTP 503: 3 waiting, 2 new since the last digest, 6 record(s)" in (
        digest.text
    )
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", digest.html)
    assert cells[:3] == ["error store", "rejected / missing_email", "7"]
    assert cells[9:12] == ["dead-letter queue", "HTTP 503", "3"]


def test_dead_letters_beyond_those_read_are_counted() -> None:
    digest = render([], _letters()[:2], depth=40, since=None, until=NOW)
    assert digest.dead_letters == 40
    assert re.search(r"\n  dead-letter queue +not read for this digest +38\n", digest.text)


def test_totals_show_each_day_the_busiest_hour_and_the_budget() -> None:
    digest = render([], depth=0, since=NOW - timedelta(days=1), until=NOW, totals=_totals())
    text = digest.text
    assert "TOTALS (Marketo's day, America/Chicago)" in text
    assert re.search(r"2026-01-14\s+2026-01-15 \(so far\)", text)
    for label, yesterday, today in [
        ("Chats read", "1,200", "80"),
        ("Leads created", "700", "5"),
        ("Leads updated", "350", "0"),
        ("Chats rejected", "150", "0"),
        ("Records failed", "4", "0"),
        ("Marketo calls", "1,500", "0"),
    ]:
        assert re.search(rf"{label}\s+{yesterday}\s+{today}\n", text), label
    # ties go to the earlier hour; a day without hourly counters has no busiest hour
    assert "Busiest hour, 2026-01-14: 14:00\u201315:00 America/Chicago, 412 calls" in text
    assert "Busiest hour, 2026-01-15 (so far): -" in text
    assert (
        "Marketo budget on 2026-01-15 (America/Chicago): leadsync used 1,204 of its cap 25,000,"
        " 23,796 left; the instance used 3,010 of 50,000." in text
    )
    assert "14:00\u201315:00 America/Chicago, 412 calls" in digest.html
    assert "No new errors; the dead-letter queue is empty." in text


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"instance_used": None},
            "; the instance's usage has not been read today (its quota is 50,000).",
        ),
        (
            {"left": 100, "instance_binds": True, "instance_used": 49_900},
            "100 left (the instance's quota is the tighter limit); the instance used 49,900",
        ),
        (
            {"left": 0, "instance_binds": True, "quota_exhausted": True},
            "Marketo refused calls today (607): the instance's quota is spent.",
        ),
    ],
)
def test_budget_line_says_what_limits_the_day(changes: dict[str, object], expected: str) -> None:
    totals = Totals(zone=ZONE, days=[], budget=_readout(**changes))
    assert expected in render([], since=None, until=NOW, totals=totals).text


def test_all_clear() -> None:
    digest = render([], depth=0, since=None, until=NOW)
    assert digest.all_clear
    assert digest.subject == "leadsync digest: all clear"
    assert "No new errors; the dead-letter queue is empty." in digest.text


# Markup injection -------------------------------------------------------------------------

_ALLOWED_TAGS = {"html", "head", "meta", "title", "body", "h1", "h2", "h3", "p", "table", "tr"}
_ALLOWED_TAGS |= {"th", "td", "small", "ul", "li"}
_ALLOWED_ATTRIBUTES = {"style", "lang", "charset"}
_INJECTIONS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "</td></tr></table><h1>owned</h1>",
    "<!-- open comment",
    '"><a href="javascript:alert(1)">click</a>',
    "\x00\x1b[31mred\x1b[0m\x07\r\nSubject: forged\u202etxt.exe\u200b",
]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.comments: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_comment(self, data: str) -> None:
        self.comments.append(data)


def _hostile_digest(size: int) -> tuple[str, str]:
    at = NOW - timedelta(hours=1)
    padding = "A" * size
    entries = []
    letters = []
    for index, injection in enumerate(_INJECTIONS):
        hostile = injection + padding
        entries.append(
            ErrorEntry(
                kind=ErrorKind.UNDELIVERABLE,
                reason=injection[:100],
                detail=hostile,
                chat_ids=[injection, f"C{index}"],
                correlation_id=hostile,
                record={"email": hostile},
                first_failure_at=at,
                last_failure_at=at,
                code=injection[:100],
                request=injection[:200],
            )
        )
        batch = _batch(injection[:100], 1, [(at, injection[:100], hostile[:1000])])
        letters.append(_letter(f"m{index}", batch.model_dump_json()))
        letters.append(
            _letter(
                f"b{index}",
                hostile,
                **{ERROR_CODE: hostile[:1000], ERROR_MESSAGE: hostile[:1000]},
                **{CORRELATION_ID: hostile[:1000]},
            )
        )
    digest = render(entries, letters, since=NOW - timedelta(days=1), until=NOW, totals=_totals())
    return digest.html, digest.text


def test_chat_text_cannot_inject_markup_or_grow_the_mail() -> None:
    page, text = _hostile_digest(10_000)
    parser = _Tags()
    parser.feed(page)
    parser.close()
    assert {tag for tag, _ in parser.tags} <= _ALLOWED_TAGS
    assert {name for _, attrs in parser.tags for name, _ in attrs} <= _ALLOWED_ATTRIBUTES
    assert parser.comments == []
    assert [tag for tag, _ in parser.tags].count("table") == 2  # the summary and the totals
    assert "<script" not in page.lower()
    assert "&lt;script&gt;" in page
    for part in (page, text):
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f\u200b\u202e]", part)
    # every hostile value was clipped: ten times the input, the same mail
    assert len(page) < 60_000
    assert (page, text) == _hostile_digest(100_000)


def test_no_full_email_or_ip_reaches_the_mail() -> None:
    at = NOW - timedelta(hours=1)
    entry = ErrorEntry(
        kind=ErrorKind.UNDELIVERABLE,
        reason="marketo_1003",
        detail="Lead Jane.Doe@Example.com at 2001:db8::7 and 198.51.100.23 refused",
        chat_ids=["C1"],
        record={"email": "jane.doe@example.com"},
        first_failure_at=at,
        last_failure_at=at,
    )
    digest = render([entry], since=None, until=NOW)
    for part in (digest.text, digest.html):
        assert not re.search(r"[\w.]+@[\w.]+\.\w+", part), part
        assert "198.51.100.23" not in part
        assert "2001:db8::7" not in part
        assert "198.51.100.0/24" in part
        assert "2001:db8::/48" in part


# The job ----------------------------------------------------------------------------------


def test_job_sends_then_moves_the_watermark() -> None:
    state = FakeState(digest_mark=NOW - timedelta(days=1), errors=_entries())
    mailer = FakeMailer()
    letters = FakeDeadLetters(letters=_letters())
    summary = run_digest(
        state,
        mailer,
        at=NOW,
        letters=letters,
        stats=FakeDailyStats({date(2026, 1, 15): {"chats_read": 3}}),
        budget=FakeBudget(_readout()),
        zone=ZONE,
    )
    assert summary.sent
    assert (summary.errors, summary.dead_letters) == (9, 5)
    assert summary.message_id == "msg-1"
    (mail,) = mailer.sent
    assert mail["to"] == ["admin@example.com"]
    assert mail["subject"] == "leadsync digest: 9 new error(s), 5 dead letter(s)"
    assert "HTTP 503" in mail["text"]
    assert "HTTP 503" in mail["html"]
    assert "leadsync used 1,204 of its cap 25,000" in mail["text"]
    assert state.digest_mark == NOW
    assert letters.letters == _letters()  # peeked, not taken


def test_job_keeps_the_watermark_when_ses_refuses() -> None:
    before = NOW - timedelta(days=1)
    state = FakeState(digest_mark=before, errors=_entries())
    mailer = FakeMailer(error=DependencyError("refused", dependency="ses"))
    letters = FakeDeadLetters()
    with pytest.raises(DependencyError):
        run_digest(state, mailer, at=NOW, letters=letters)
    assert state.digest_mark == before
    assert "digest_mark" not in state.log
    # the next run reports the same errors again
    retry = FakeMailer()
    later = NOW + timedelta(days=1)
    summary = run_digest(state, retry, at=later, letters=letters)
    assert summary.errors == 9
    assert summary.since == before
    assert state.digest_mark == later


@pytest.mark.parametrize(("send_all_clear", "sent"), [(False, 0), (True, 1)])
def test_job_all_clear_is_sent_only_when_asked(send_all_clear: bool, sent: int) -> None:
    state, mailer = FakeState(), FakeMailer()
    summary = run_digest(state, mailer, at=NOW, send_all_clear=send_all_clear)
    assert len(mailer.sent) == sent
    assert summary.sent is bool(sent)
    assert state.digest_mark == NOW
    if sent:
        assert mailer.sent[0]["subject"] == "leadsync digest: all clear"


def test_waiting_dead_letters_are_reported_even_without_new_errors() -> None:
    state, mailer = FakeState(digest_mark=NOW - timedelta(days=1)), FakeMailer()
    letters = FakeDeadLetters(letters=_letters()[:1])
    run_digest(state, mailer, at=NOW, letters=letters)
    assert mailer.sent[0]["subject"] == "leadsync digest: 0 new error(s), 1 dead letter(s)"


# Which days the totals cover ----------------------------------------------------------------


def test_totals_cover_the_last_two_quota_days_of_the_period() -> None:
    stats = FakeDailyStats(
        {date(2026, 1, 13): {"chats_read": 9}, date(2026, 1, 14): {"chats_read": 7}}
    )
    days = day_totals(stats, NOW - timedelta(days=3), NOW, ZONE)
    assert [(d.day, d.complete, dict(d.counters)) for d in days] == [
        (date(2026, 1, 14), True, {"chats_read": 7}),
        (date(2026, 1, 15), False, {}),  # today is always shown, even when nothing counted
    ]
    assert stats.reads == [date(2026, 1, 14), date(2026, 1, 15)]


def test_a_past_day_with_nothing_counted_is_left_out() -> None:
    days = day_totals(FakeDailyStats(), None, NOW, ZONE)
    assert [d.day for d in days] == [date(2026, 1, 15)]


def test_totals_days_are_local_to_the_quota_zone() -> None:
    # 05:30 UTC on the 15th is still the 14th in Chicago
    early = datetime(2026, 1, 15, 5, 30, tzinfo=UTC)
    days = day_totals(FakeDailyStats(), early - timedelta(hours=2), early, ZONE)
    assert [d.day for d in days] == [date(2026, 1, 14)]


# The limiter's budget, read ---------------------------------------------------------------

_LIMITS = LimiterConfig(daily_cap=25_000, daily_quota=50_000, quota_timezone=ZONE)
_NOW_MS = int(NOW.timestamp() * 1000)


def _budget(**state: Any) -> BudgetReadout:
    """The budget read at NOW from the limiter's state with these fields."""
    return budget_today(LimiterState(version=9, **state), _NOW_MS, _LIMITS)


def _budget_with_instance_read_today(
    used_today: int, instance_total: int, instance_ours: int
) -> BudgetReadout:
    today = "2026-01-15"
    return _budget(
        day=today,
        used_today=used_today,
        instance_day=today,
        instance_total=instance_total,
        instance_ours=instance_ours,
    )


def test_budget_counts_what_the_instance_used_besides_leadsync() -> None:
    readout = _budget_with_instance_read_today(1204, instance_total=2900, instance_ours=1094)
    assert (readout.day, readout.used, readout.instance_used) == ("2026-01-15", 1204, 3010)
    assert (readout.left, readout.instance_binds, readout.quota_exhausted) == (23_796, False, False)


def test_budget_of_a_new_day_starts_from_zero() -> None:
    readout = _budget(day="2026-01-14", used_today=20_000, instance_day="2026-01-14")
    assert (readout.day, readout.used, readout.left, readout.instance_used) == (
        "2026-01-15",
        0,
        25_000,
        None,
    )


def test_budget_when_the_instance_quota_binds_or_is_spent() -> None:
    readout = _budget_with_instance_read_today(100, instance_total=49_950, instance_ours=100)
    assert (readout.left, readout.instance_binds, readout.instance_used) == (50, True, 49_950)
    spent = _budget(day="2026-01-15", quota_exhausted_day="2026-01-15")
    assert (spent.left, spent.quota_exhausted) == (0, True)
