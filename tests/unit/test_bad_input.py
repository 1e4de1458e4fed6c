"""Bad input, kind by kind: what a chat, a page or an event can hold, and what becomes of it.

One bad chat among good ones: the good ones still become visitors and are queued, the bad one
becomes exactly one error record with a clear reason and its chat id, the high-water mark
moves, and nothing else is lost.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from requests.adapters import BaseAdapter

from leadsync.errors import InvalidEvent, SourceError
from leadsync.mapping.fieldmap import default_field_map
from leadsync.mapping.livechat_to_visitor import map_entries, split_name
from leadsync.mapping.sanitize import (
    check_email,
    clean_field,
    clean_text,
    clean_url,
    normalize_email,
)
from leadsync.models import Rejection, RejectionReason, Visitor
from leadsync.runtime.events import parse_scheduled_event, parse_sqs_event
from leadsync.sources.livechat import LiveChatClient
from leadsync.sync.failures import ErrorKind
from leadsync.sync.fetch.batching import BatchLimits
from leadsync.sync.fetch.decide import candidate
from leadsync.sync.fetch.run import FetchSettings
from leadsync.sync.fetch.summary import FetchSummary
from leadsync.sync.messages import SyncRecord
from local.simulators.marketo.config import DEFAULT_CUSTOM_FIELDS, STANDARD_FIELDS, FieldDef
from local.simulators.marketo.schema import InvalidValue, normalize
from tests.support.chats import (
    AGENT,
    CONTROL,
    HOSTILE,
    HUGE,
    MARKUP,
    customer,
    entry,
    form,
    hostile_entry,
    thread,
)
from tests.support.fakes import FakeQueue, FakeSource, FakeState
from tests.support.fetch_run import fetch_once
from tests.support.handlers import event

NOW = datetime(2026, 1, 15, 13, 0, tzinfo=UTC)
MARK = NOW - timedelta(hours=1)
SETTINGS = FetchSettings(limits=BatchLimits(50, 1_000_000))
MARKETO_SCHEMA = {
    name: FieldDef(name, kind, length)
    for name, kind, length in STANDARD_FIELDS + DEFAULT_CUSTOM_FIELDS
}
GOOD = [
    entry(
        f"G{i}",
        user=customer(email=f"good{i}@example.com", user_id=f"g{i}"),
        thread_=thread(f"TG{i}"),
    )
    for i in range(3)
]
GOOD_EMAILS = {f"good{i}@example.com" for i in range(3)}


def _full_width(text: str) -> str:
    """What an East Asian keyboard types: the same letters, in full-width forms."""
    return "".join(chr(ord(char) + 0xFEE0) for char in text)


# what must never reach Marketo, a log line or a mail
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff<>]")


# ---------------------------------------------------------------------------------------
# e-mail addresses: normalised when the address is unambiguous, else refused with a reason


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Jane.Doe@Example.COM\t", "jane.doe@example.com"),
        ("\u00a0jane@example.com\u202f", "jane@example.com"),  # no-break spaces around
        ("ja\u200bne@exam\u00adple.com\ufeff", "jane@example.com"),  # invisible characters
        ("jane@example.com\x00", "jane@example.com"),
        ("\u202ejane@example.com\u202c", "jane@example.com"),
        ("mailto:jane@example.com", "jane@example.com"),
        ("MAILTO:Jane@Example.com?subject=Hello", "jane@example.com"),
        ("Jane Doe <jane@example.com>", "jane@example.com"),
        ('"Doe, Jane" <jane@example.com>', "jane@example.com"),
        ("<mailto:jane@example.com>", "jane@example.com"),
        ("'jane@example.com'", "jane@example.com"),
        ('"jane@example.com"', "jane@example.com"),
        ("(jane@example.com)", "jane@example.com"),
        ("jane@example.com.", "jane@example.com"),
        ("jane@example.com;", "jane@example.com"),
        ("jane@example.com,", "jane@example.com"),
        (_full_width("jane@example.com"), "jane@example.com"),
        ("jane@example.xn--p1ai", "jane@example.xn--p1ai"),  # an IDN top-level domain, encoded
        ("o'brien+tag@mail.example.net", "o'brien+tag@mail.example.net"),
        ("a" * 64 + "@" + "b" * 63 + ".com", "a" * 64 + "@" + "b" * 63 + ".com"),
    ],
)
def test_addresses_that_are_normalised(raw: str, expected: str) -> None:
    assert normalize_email(raw) == expected
    assert check_email(raw) == (expected, "")


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (None, "empty"),
        ("", "empty"),
        (" \t\u200b ", "empty"),
        (42, "a number"),
        (["jane@example.com"], "a list"),
        ({"email": "jane@example.com"}, "an object"),
        (True, "a boolean"),
        ("john smith@example.com", "spaces"),
        ("jane@exam ple.com", "spaces"),
        ("a@b@example.com", "more than one @"),
        ("jane@example.com, joe@example.com", "several addresses"),
        ("jane@example.com;joe@example.com", "several addresses"),
        ("jane@example.com\r\nBcc: x@example.net", "several addresses"),
        ("not-an-email", "no @"),
        ("@example.com", "nothing before the @"),
        ("a" * 65 + "@example.com", "longer than 64"),
        ("jane@" + ("b" * 60 + ".") * 5 + "com", "longer than 254"),
        ("jane@" + "b" * 64 + ".com", "not valid"),  # a label over 63 characters
        ('"john smith"@example.com', "quoted"),
        ('"jane"@example.com', "quoted"),
        ("jane@[192.168.0.1]", "IP-literal"),
        ("jane@[IPv6:2001:db8::1]", "IP-literal"),
        ("jane@192.168.0.1", "IP address"),
        ("jane@localhost", "no top-level domain"),
        ("x@y", "no top-level domain"),
        ("jane@ex\u0430mple.com", "outside ASCII"),  # a Cyrillic a
        ("josé@example.com", "outside ASCII"),
        ("jane@bücher.de", "outside ASCII"),
        ("<script>@example.com", "not valid"),
        ("jane@example.com<script>", "no @"),  # the address in brackets is "script"
        ("jane..doe@example.com", "not valid"),
        (".jane@example.com", "not valid"),
        ("jane@-example.com", "not valid"),
        ("jane@example.c", "not valid"),
        ("mailto:", "no @"),
    ],
)
def test_addresses_that_are_refused_say_why(raw: object, problem: str) -> None:
    email, why = check_email(raw)
    assert email is None
    assert normalize_email(raw) is None
    assert problem in why


def test_what_is_accepted_is_what_marketo_takes_as_an_e_mail() -> None:
    field = MARKETO_SCHEMA["email"]
    for raw in (
        "Jane Doe <jane@example.com>",
        "mailto:a.b+c@x.example.org?cc=z",
        _full_width("j@e.io"),
    ):
        email = normalize_email(raw)
        assert email is not None
        assert normalize(field, email) == email


# ---------------------------------------------------------------------------------------
# text written to Marketo: one line, visible, no markup, within the field


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (MARKUP, "alert('x')"),
        (
            '<b>Bold</b> &amp; <i>it</i> <a href="javascript:alert(1)">click</a>',
            "Bold &amp; it click",
        ),
        ("<img src=x onerror=alert(1)", "img src=x onerror=alert(1)"),
        ("Jane<br>Doe", "Jane Doe"),
        ("a <!-- hidden --> b", "a b"),
        (CONTROL, "ctrlcharshere Bcc: x@example.net"),
        ("\u202eevil\u202c \u2066iso\u2069 \u061cmark", "evil iso mark"),
        ("zero\u200bwidth\ufeff\u2060", "zerowidth"),
        ("soft\u00adhyphen", "softhyphen"),
        ("tag\U000e0041\U000e0042 chars", "tag chars"),
        ("\u3164\u3164", None),  # Hangul fillers: a blank that looks like a name
        ("lone \ud800 surrogate", "lone surrogate"),
        ("👩\u200d💻 Zoë", "👩\u200d💻 Zoë"),  # joiners that emoji need stay
        ("{{7*7}} ${jndi:ldap://127.0.0.1/a}", "{{7*7}} ${jndi:ldap://127.0.0.1/a}"),
        ("O'Brien & Söhne", "O'Brien & Söhne"),
    ],
)
def test_field_text_is_single_line_visible_and_markup_free(raw: str, expected: str | None) -> None:
    assert clean_field(raw) == expected


def test_field_text_fits_the_field_however_long_the_input() -> None:
    for raw in (HUGE, "<b>" * 5_000, "é" * 10_240, "👍" * 10_240, "a\u0301" * 10_240):
        text = clean_field(raw)
        assert text is None or 0 < len(text) <= 255


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://shop.example.com/pricing", "https://shop.example.com/pricing"),
        ("HTTP://Shop.example.com", "HTTP://Shop.example.com"),
        (
            "https://ref.example.com/?q=<script>alert('x')</script>",
            "https://ref.example.com/?q=%3Cscript%3Ealert(%27x%27)%3C/script%3E",
        ),
        ('https://a.example.com/"onmouseover="x', "https://a.example.com/%22onmouseover=%22x"),
        ("https://a.example.com/a b", "https://a.example.com/a%20b"),
        ("javascript:alert(1)", None),
        ("data:text/html,<script>alert(1)</script>", None),
        ("//evil.example.com/", None),
        ("https://good.example.com@evil.example.com/", None),
        ("not a url", None),
        ("", None),
        (42, None),
    ],
)
def test_urls_are_http_and_cannot_break_out_of_an_attribute(
    raw: object, expected: str | None
) -> None:
    assert clean_url(raw) == expected


def test_a_long_url_is_cut_without_a_broken_escape() -> None:
    url = clean_url("https://a.example.com/" + "x" * 229 + "<<<<")
    assert url is not None
    assert len(url) <= 255
    assert url.endswith("%3C")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<b> Jane</b> Doe", ("Jane", "Doe")),
        ("<script>alert('x')</script>", ("alert('x')", None)),
        ("Jane\r\nBcc: x@example.net", ("Jane", "Bcc: x@example.net")),
        ("\u202eenaJ\u202c Doe", ("enaJ", "Doe")),
        ("<i>Customer</i>", (None, None)),
        ("\u3164", (None, None)),
    ],
)
def test_names_are_split_after_cleaning(raw: str, expected: tuple[str | None, str | None]) -> None:
    assert split_name(raw) == expected


def test_visitor_values_are_cleaned_for_marketo_but_rejections_keep_what_was_sent() -> None:
    visitor = Visitor(email="a@example.com", first_name=MARKUP, tags=["<b>hot</b>", "hot"])
    assert visitor.first_name == "alert('x')"
    assert visitor.tags == ["hot"]
    rejection = Rejection(
        chat_id="C1", reason=RejectionReason.INVALID_EMAIL, value="<jane@example>\r\n"
    )
    assert rejection.value == "<jane@example>"


# ---------------------------------------------------------------------------------------
# malformed and partial chats, mapped alone


def _rejection(raw: object) -> Rejection:
    result = map_entries([raw])
    assert result.visitors == []
    [rejection] = result.rejections
    return rejection


def _visitor(raw: object) -> Visitor:
    result = map_entries([raw], not_after=NOW)
    assert result.rejections == []
    [visitor] = result.visitors
    return visitor


def test_an_entry_that_is_not_an_object_leaves_its_start_as_a_trace() -> None:
    rejection = _rejection(["C1", {"users": [customer()]}])
    assert rejection.chat_id == "unknown"
    assert rejection.reason is RejectionReason.MALFORMED_CHAT
    assert "a list" in rejection.detail
    assert rejection.excerpt is not None
    assert rejection.excerpt.startswith('["C1", {"users"')
    huge = _rejection({"id": None, "blob": HUGE + "\x00\r\n"})
    assert huge.excerpt is not None
    assert len(huge.excerpt) <= 500
    assert not _UNSAFE.search(huge.excerpt.replace("<", "").replace(">", ""))


def test_a_chat_with_an_id_keeps_no_excerpt() -> None:
    assert _rejection({"id": "C1", "users": []}).excerpt is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"id": "P1", "users": [customer(email="p@example.com")]}, "no thread"),
        ({"id": "P1", "users": [customer(email="p@example.com")], "thread": None}, "null thread"),
        ({"id": "P1", "users": [customer(email="p@example.com")], "thread": "T1"}, "text thread"),
        ({"id": "P1", "users": [customer(email="p@example.com")], "threads": [1, None]}, "junk"),
    ],
)
def test_a_chat_without_a_thread_still_brings_its_visitor(
    raw: dict[str, Any], expected: str
) -> None:
    visitor = _visitor(raw)
    assert visitor.email == "p@example.com"
    assert visitor.chat_ids == ["P1"]
    assert visitor.first_chat_at is None, expected
    assert visitor.last_chat_at is None, expected


def test_unknown_fields_everywhere_are_ignored() -> None:
    user = {**customer(email="u@example.com"), "x_unknown": {"deep": [1, {"a": None}]}}
    user["visit"] = {
        **user["visit"],
        "surprise": True,
        "geolocation": {"country": "Poland", "x": 1},
    }
    raw = {
        "id": "U1",
        "users": [user, {**AGENT, "extra": "x"}],
        "thread": {**thread(), "nested": [[[]]], "properties": {"x": {"y": "z"}}},
        "surprise": ["a", 1, None],
    }
    visitor = _visitor(raw)
    assert visitor.email == "u@example.com"
    assert visitor.country == "Poland"
    assert set(visitor.model_dump()) == set(Visitor.model_fields)


@pytest.mark.parametrize(
    "created_at",
    [
        "2026-01-1",  # truncated
        "2026-01-15T1",
        "2026-13-45T00:00:00Z",  # invalid
        "0001-01-01T00:00:00+01:00",  # before the first representable instant in UTC
        "9999-12-31T23:59:59-05:00",  # after the last one
        "2999-01-01T00:00:00Z",  # after the window: not believed
        "1970-01-01T00:00:00Z",  # a clock at zero
        "",
        "Z",
        "2026-01-15T12:00:00Z" * 10,
        1768478400,
        None,
        ["2026-01-15T12:00:00Z"],
    ],
)
def test_a_broken_chat_time_is_no_time_and_the_visitor_stays(created_at: object) -> None:
    good = thread("T1", "2026-01-15T11:00:00Z")
    broken = {**thread("T2"), "created_at": created_at}
    visitor = _visitor({"id": "C1", "users": [customer()], "threads": [good, broken]})
    assert visitor.first_chat_at == visitor.last_chat_at == datetime(2026, 1, 15, 11, tzinfo=UTC)
    only = _visitor({"id": "C2", "users": [customer()], "thread": broken})
    assert only.first_chat_at is None
    assert only.last_chat_at is None


@pytest.mark.parametrize(
    "user",
    [
        {"type": "customer", "email": "w@example.com", "name": 42, "phone_number": ["1"]},
        {"type": "customer", "email": "w@example.com", "visit": 5},
        {
            "type": "customer",
            "email": "w@example.com",
            "visit": {"geolocation": [], "last_pages": {}},
        },
        {"type": "customer", "email": "w@example.com", "visit": {"last_pages": [None, {"url": 5}]}},
        {"type": "customer", "email": "w@example.com", "visit": {"referrer": {"a": 1}}},
    ],
)
def test_wrong_types_in_optional_fields_lose_only_that_value(user: dict[str, Any]) -> None:
    assert _visitor({"id": "W1", "users": [user], "thread": thread()}).email == "w@example.com"


def test_an_invalid_email_rejection_says_why_and_keeps_the_value_on_one_line() -> None:
    rejection = _rejection(
        entry("C7", user=customer(email="jane@example.com\r\nBcc: x@example.net"))
    )
    assert rejection.reason is RejectionReason.INVALID_EMAIL
    assert "several addresses" in rejection.detail
    assert rejection.value == "jane@example.com Bcc: x@example.net"
    wrong_type = _rejection(entry("C8", user={**customer(), "email": ["a@example.com"]}))
    assert wrong_type.reason is RejectionReason.INVALID_EMAIL
    assert "a list" in wrong_type.detail


def test_a_profile_address_with_junk_around_it_is_used() -> None:
    assert _visitor(entry(user=customer(email="mailto:Jane <JANE@example.com>."))).email == (
        "jane@example.com"
    )


# ---------------------------------------------------------------------------------------
# the fetch: one bad chat among good ones


def _fetch(*bad: object) -> tuple[FetchSummary, FakeState, FakeQueue]:
    state, queue = FakeState(mark=MARK), FakeQueue()
    source = FakeSource([GOOD[0], *bad, GOOD[1], GOOD[2]])
    summary = fetch_once(source, state, queue, settings=SETTINGS, at=NOW)
    return summary, state, queue


def _records(queue: FakeQueue) -> list[SyncRecord]:
    return [record for batch in queue.batches for record in batch.records]


def _assert_the_good_ones_went_through(
    summary: FetchSummary, state: FakeState, queue: FakeQueue
) -> None:
    records = _records(queue)
    assert {record.email for record in records} >= GOOD_EMAILS
    assert {"G0", "G1", "G2"} <= {chat_id for record in records for chat_id in record.chat_ids}
    assert summary.mark_advanced
    assert state.mark == NOW
    assert state.log == ["errors", "mark"]


def _with_id(chat_id: str, **fields: Any) -> dict[str, Any]:
    return {"id": chat_id, **fields}


BadChat = tuple[object, RejectionReason, str, str]


def _b1(chat: object, reason: RejectionReason, words: str) -> BadChat:
    """Chat B1, refused for `reason` with `words` in the detail of its error."""
    return (chat, reason, "B1", words)


def _no_customer(users: object) -> BadChat:
    return _b1(
        _with_id("B1", users=users, thread=thread()), RejectionReason.NO_CUSTOMER, "no customer"
    )


def _customer_email(email: str | None, reason: RejectionReason, words: str) -> BadChat:
    return _b1(entry("B1", user=customer(email=email)), reason, words)


def _raw_email(email: object, reason: RejectionReason, words: str) -> BadChat:
    """B1's customer is given as raw JSON, `email` as it is."""
    return _b1(_with_id("B1", users=[{"type": "customer", "email": email}]), reason, words)


MISSING, INVALID = RejectionReason.MISSING_EMAIL, RejectionReason.INVALID_EMAIL
BAD_CHATS: dict[str, BadChat] = {
    # name: (entry, reason, chat id in the error record, words of the detail)
    "a string": ("garbage", RejectionReason.MALFORMED_CHAT, "unknown", "a string"),
    "a number": (42, RejectionReason.MALFORMED_CHAT, "unknown", "a number"),
    "null": (None, RejectionReason.MALFORMED_CHAT, "unknown", "null"),
    "a list": ([{"id": "B1"}], RejectionReason.MALFORMED_CHAT, "unknown", "a list"),
    "no id": (
        {"users": [customer(email="lost@example.com")], "thread": thread()},
        RejectionReason.MALFORMED_CHAT,
        "unknown",
        "chat id is null",
    ),
    "a number for an id": (
        {"id": 7, "users": [customer()]},
        RejectionReason.MALFORMED_CHAT,
        "unknown",
        "chat id is a number",
    ),
    "a blank id": (
        {"id": " \x00\u200b ", "users": [customer()]},
        RejectionReason.MALFORMED_CHAT,
        "unknown",
        "chat id is empty",
    ),
    "no users": (_with_id("B1", thread=thread()), RejectionReason.NO_CUSTOMER, "B1", "no customer"),
    "null users": _no_customer(None),
    "users as text": _no_customer("jane@example.com"),
    "users of junk": _no_customer([None, 5, "x", {"type": 7}, []]),
    "only an agent": _no_customer([dict(AGENT)]),
    "no e-mail": _customer_email(None, MISSING, "no e-mail"),
    "a blank e-mail": _customer_email(" \t\u200b ", MISSING, "no e-mail"),
    "a null e-mail": _raw_email(None, MISSING, "no e-mail"),
    "an e-mail that is a list": _raw_email(["a@example.com"], INVALID, "a list"),
    "an e-mail that is a number": _raw_email(42, INVALID, "a number"),
    "an address with a space": _customer_email("john smith@example.com", INVALID, "spaces"),
    "two @": _customer_email("a@b@example.com", INVALID, "more than one @"),
    "an IP-literal domain": _customer_email("jane@[10.0.0.1]", INVALID, "IP-literal"),
    "a homoglyph": _customer_email("jane@ex\u0430mple.com", INVALID, "outside ASCII"),
    "a 10 kB address": _customer_email(HUGE + "@example.com", INVALID, "longer than 254"),
    "an injected header": _customer_email(
        "jane@example.com\r\nBcc: x@example.net", INVALID, "several addresses"
    ),
    "a form address that is not one": _b1(
        entry("B1", user=customer(email=None), thread_=thread(events=[form(("email", "x@y"))])),
        INVALID,
        "top-level domain",
    ),
}


@pytest.mark.parametrize("name", list(BAD_CHATS))
def test_one_bad_chat_is_one_error_record_and_the_rest_goes_through(name: str) -> None:
    bad, reason, chat_id, words = BAD_CHATS[name]
    summary, state, queue = _fetch(bad)

    _assert_the_good_ones_went_through(summary, state, queue)
    assert {record.email for record in _records(queue)} == GOOD_EMAILS
    assert (summary.entries, summary.visitors, summary.rejected) == (4, 3, 1)
    assert summary.chats == (3 if chat_id == "unknown" else 4)
    [error] = state.errors
    assert error.kind is ErrorKind.REJECTED
    assert error.reason == reason.value
    assert error.chat_ids == [chat_id]
    assert words in error.detail
    assert error.correlation_id == summary.run_id
    assert error.record is not None
    assert error.record["chat_id"] == chat_id
    if chat_id == "unknown":  # the entry's start is its only trace
        assert error.record["excerpt"]


PARTIAL_CHATS: dict[str, object] = {
    "no thread": {"id": "P1", "users": [customer(email="p@example.com")]},
    "a thread that is text": {
        "id": "P1",
        "users": [customer(email="p@example.com")],
        "thread": "x",
    },
    "a broken time": entry(
        "P1", user=customer(email="p@example.com"), thread_=thread(created_at="2026-01-1")
    ),
    "an overflowing time": entry(
        "P1",
        user=customer(email="p@example.com"),
        thread_=thread(created_at="9999-12-31T23:59:59-05:00"),
    ),
    "a time far after the window": entry(
        "P1",
        user=customer(email="p@example.com"),
        thread_=thread(created_at="2999-01-01T00:00:00Z"),
    ),
    "unknown fields": {
        "id": "P1",
        "users": [{**customer(email="p@example.com"), "x": {"y": [1]}}],
        "thread": {**thread(), "z": None},
        "extra": True,
    },
    "wrong types in optional fields": {
        "id": "P1",
        "users": [{"type": "customer", "email": "p@example.com", "name": 5, "visit": "x"}],
        "thread": {"id": 5, "created_at": 5, "tags": "x", "events": {"a": 1}},
    },
}


@pytest.mark.parametrize("name", list(PARTIAL_CHATS))
def test_a_partial_chat_with_an_address_is_queued_without_its_broken_parts(name: str) -> None:
    summary, state, queue = _fetch(PARTIAL_CHATS[name])

    _assert_the_good_ones_went_through(summary, state, queue)
    assert (summary.chats, summary.visitors, summary.rejected) == (4, 4, 0)
    assert state.errors == []
    [record] = [r for r in _records(queue) if r.email == "p@example.com"]
    assert record.chat_ids == ["P1"]
    assert set(record.fields) <= set(default_field_map().fields)
    if name != "unknown fields":
        assert "livechatLastChat" not in record.fields


def _renamed(raw: object, suffix: str) -> object:
    if isinstance(raw, dict) and isinstance(raw.get("id"), str) and clean_text(raw["id"]):
        return {**raw, "id": f"{raw['id']}-{suffix}"}
    return raw


def test_many_bad_chats_at_once_lose_nothing() -> None:
    bad = [_renamed(entry, str(n)) for n, (entry, *_) in enumerate(BAD_CHATS.values())]
    summary, state, queue = _fetch(*bad, *PARTIAL_CHATS.values())

    _assert_the_good_ones_went_through(summary, state, queue)
    assert summary.rejected == len(BAD_CHATS) == len(state.errors)
    queued = {chat_id for record in _records(queue) for chat_id in record.chat_ids}
    rejected = [chat_id for error in state.errors for chat_id in error.chat_ids]
    with_ids = {
        raw["id"]
        for raw in [*bad, *PARTIAL_CHATS.values(), *GOOD]
        if isinstance(raw, dict) and isinstance(raw.get("id"), str) and clean_text(raw["id"])
    }
    assert with_ids == queued | (set(rejected) - {"unknown"})
    assert rejected.count("unknown") == sum(
        1 for *_, chat_id, _ in BAD_CHATS.values() if chat_id == "unknown"
    )


_junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20) | st.sampled_from(HOSTILE),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)
_paths = st.sampled_from(
    [
        ("users",),
        ("users", 0),
        ("users", 0, "email"),
        ("users", 0, "name"),
        ("users", 0, "visit"),
        ("users", 0, "visit", "geolocation"),
        ("users", 0, "visit", "last_pages"),
        ("thread",),
        ("thread", "created_at"),
        ("thread", "tags"),
        ("thread", "events"),
    ]
)


def _spoiled(raw: dict[str, Any], path: tuple[Any, ...], junk: object) -> dict[str, Any]:
    spoiled = json.loads(json.dumps(raw))
    target = spoiled
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = junk
    return spoiled  # type: ignore[no-any-return]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_paths, _junk), min_size=1, max_size=4))
def test_junk_anywhere_in_chats_loses_nothing(spoils: list[tuple[tuple[Any, ...], object]]) -> None:
    bad = [
        _spoiled(entry(f"J{i}", user=customer(email=f"j{i}@example.com")), path, junk)
        for i, (path, junk) in enumerate(spoils)
    ]
    summary, state, queue = _fetch(*bad)

    _assert_the_good_ones_went_through(summary, state, queue)
    queued = [chat_id for record in _records(queue) for chat_id in record.chat_ids]
    rejected = [chat_id for error in state.errors for chat_id in error.chat_ids]
    assert sorted(queued + rejected) == sorted(["G0", "G1", "G2", *(b["id"] for b in bad)])
    assert all(error.detail for error in state.errors)
    for record in _records(queue):
        _fits_marketo(record)


# ---------------------------------------------------------------------------------------
# huge and hostile values: what is queued for Marketo fits every field and stays clean


def _fits_marketo(record: SyncRecord) -> None:
    for name, value in record.fields.items():
        try:
            normalize(MARKETO_SCHEMA[name], value)
        except InvalidValue as exc:  # pragma: no cover - the failure message
            pytest.fail(f"{record.email} {name}: Marketo would refuse it: {exc}")
        if isinstance(value, str):
            text = value.replace("%3C", "").replace("%3E", "")
            assert not _UNSAFE.search(text), (name, value[:80])


@pytest.mark.parametrize("value", HOSTILE, ids=lambda v: repr(v[:24]))
def test_a_hostile_chat_is_counted_queued_and_fits_every_field(value: str) -> None:
    summary, state, queue = _fetch(hostile_entry("H1", value))

    _assert_the_good_ones_went_through(summary, state, queue)
    assert (summary.chats, summary.visitors, summary.rejected, summary.oversized) == (4, 4, 0, 0)
    assert state.errors == []
    [record] = [r for r in _records(queue) if r.email == "hostile@example.com"]
    assert record.chat_ids == ["H1"]
    for other in _records(queue):
        _fits_marketo(other)


def test_every_mapped_field_at_its_largest_fits_marketo() -> None:
    # however the field map grows, a visitor made of 10 kB values only ever sends what fits
    values: dict[str, Any] = {"email": "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + ".com"}
    for name, info in Visitor.model_fields.items():
        if name in values or name in ("chat_ids", "tags"):
            continue
        if info.annotation in (int,):
            values[name] = 10**9
        elif "chat_at" in name:
            values[name] = NOW
        elif name in ("referrer", "landing_page"):
            values[name] = "https://example.com/?" + HUGE
        else:
            values[name] = HUGE
    visitor = Visitor(**values, tags=[f"{i}{HUGE}" for i in range(200)], chat_ids=["C1"])
    fields = candidate(visitor, default_field_map())
    assert set(fields) == set(default_field_map().fields)
    for name, value in fields.items():
        normalize(MARKETO_SCHEMA[name], value)


def test_huge_form_answers_and_unmapped_custom_fields_are_not_sent() -> None:
    summary, _state, queue = _fetch(hostile_entry("H1", HUGE))
    [record] = [r for r in _records(queue) if r.email == "hostile@example.com"]
    assert summary.visitors == 4
    assert len(record.model_dump_json()) < 6_000  # a 10 kB "Company:" answer is not in it


# ---------------------------------------------------------------------------------------
# a LiveChat page that is not what the API documents: the run fails, the mark stays


class _Canned(BaseAdapter):
    def __init__(self, body: bytes, status: int = 200) -> None:
        super().__init__()
        self.body = body
        self.status = status

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        response = requests.Response()
        response.status_code = self.status
        response._content = self.body
        response.headers["Content-Type"] = "application/json"
        response.request = request
        response.url = request.url or ""
        return response

    def close(self) -> None:
        return None


def _client(body: bytes) -> LiveChatClient:
    session = requests.Session()
    session.mount("https://", _Canned(body))
    return LiveChatClient("account", "token", "https://api.example.com", session=session)


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"<html>502 Bad Gateway</html>", "non-JSON"),
        (b'{"chats": [', "non-JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "non-JSON"),
        (b"[]", "non-object"),
        (b"null", "non-object"),
        (b'{"found_chats": 3}', "no `chats` list"),
        (b'{"chats": {"id": "C1"}}', "no `chats` list"),
        (b'{"chats": [{"id": "C1"}], "next_page_id": 5}', "not text"),
    ],
)
def test_a_broken_page_is_a_retryable_source_error(body: bytes, words: str) -> None:
    with pytest.raises(SourceError, match=re.escape(words)) as raised:
        list(_client(body).list_archives(MARK, NOW))
    assert raised.value.retryable


def test_a_broken_page_leaves_the_mark_for_the_next_run() -> None:
    state = FakeState(mark=MARK)
    client = _client(b"<html>oops</html>")
    with pytest.raises(SourceError):
        fetch_once(client, state, FakeQueue(), settings=SETTINGS, at=NOW)
    assert state.mark == MARK
    # no chat is stored as rejected; the failed run itself is recorded for the digest
    assert [(e.kind, e.code) for e in state.errors] == [(ErrorKind.RUN_FAILED, "SourceError")]


def test_a_page_of_junk_entries_is_read_whole() -> None:
    page = {"chats": [GOOD[0], "junk", None, 5, GOOD[1]], "next_page_id": None}
    entries = list(_client(json.dumps(page).encode()).list_archives(MARK, NOW))
    result = map_entries(entries)
    assert (len(result.visitors), len(result.rejections)) == (2, 3)


# ---------------------------------------------------------------------------------------
# events a handler does not expect


SCHEDULE = event("fetch_schedule.json")
SQS_EVENT = event("upload_sqs.json")
API_GATEWAY = {
    "httpMethod": "POST",
    "path": "/sync",
    "headers": {},
    "body": "{}",
    "requestContext": {"stage": "prod"},
}


@pytest.mark.parametrize(
    ("wrong", "words"),
    [
        (None, "got nothing (null)"),
        ([], "got a list"),
        ([SCHEDULE], "got a list of 1"),
        ("Scheduled Event", "got a string"),
        (7, "got a number"),
        ({}, "got an empty object"),
        (SQS_EVENT, "got records from aws:sqs"),
        (API_GATEWAY, "got an API Gateway"),
        (
            {**SCHEDULE, "detail-type": "Object Created", "source": "aws.s3"},
            "'Object Created' from aws.s3",
        ),
        (
            {"detail-type": "Scheduled Event", "source": "aws.events"},
            "missing: account, id, region, time",
        ),
        ({k: v for k, v in SCHEDULE.items() if k != "time"}, "missing: time"),
        ({**SCHEDULE, "time": "yesterday"}, "invalid: time"),
        ({**SCHEDULE, "time": "2026-01-15T13:00:00"}, "invalid: time"),  # no time zone
        ({**SCHEDULE, "id": None}, "invalid: id"),
    ],
)
def test_a_schedule_handler_refuses_other_events_naming_the_problem(
    wrong: object, words: str
) -> None:
    with pytest.raises(InvalidEvent, match=r"^expected an EventBridge Scheduled Event; ") as raised:
        parse_scheduled_event(wrong)
    assert words in str(raised.value)


@pytest.mark.parametrize(
    ("wrong", "words"),
    [
        (None, "got nothing (null)"),
        ([SQS_EVENT], "got a list of 1"),
        ("body", "got a string"),
        ({}, "got an empty object"),
        (SCHEDULE, "got 'Scheduled Event' from aws.events"),
        (API_GATEWAY, "got an API Gateway"),
        ({"Records": []}, "got an event with no records"),
        ({"Records": "x"}, "Records is not a list"),
        ({"Records": [{"eventSource": "aws:s3", "s3": {}}]}, "got records from aws:s3"),
        ({"Records": [None]}, "invalid: Records.0"),
        ({"Records": [{"eventSource": "aws:sqs", "body": "{}"}]}, "missing: Records.0.messageId"),
        (
            {"Records": [{**SQS_EVENT["Records"][0], "body": None}]},  # type: ignore[index]
            "invalid: Records.0.body",
        ),
    ],
)
def test_the_upload_refuses_other_events_naming_the_problem(wrong: object, words: str) -> None:
    with pytest.raises(InvalidEvent, match=r"^expected an SQS event; ") as raised:
        parse_sqs_event(wrong)
    assert words in str(raised.value)


def test_an_sqs_event_with_a_body_that_is_not_a_batch_is_still_an_sqs_event() -> None:
    # the envelope is the handler's; the body is the upload's, one message at a time
    records = [{**SQS_EVENT["Records"][0], "body": "not json"}]  # type: ignore[index]
    parsed = parse_sqs_event({"Records": records})
    assert [m.body for m in parsed.records] == ["not json"]
    assert parse_sqs_event(SQS_EVENT).records[0].message_id


def test_a_refused_event_is_logged_on_one_line_without_its_content(
    caplog: pytest.LogCaptureFixture,
) -> None:
    hostile = {"bad\r\nkey\x00": "jane.doe@example.com", "source": "evil\nsource"}
    with caplog.at_level(logging.INFO), pytest.raises(InvalidEvent) as raised:
        parse_scheduled_event(hostile)
    assert "\n" not in str(raised.value)
    [logged] = [r for r in caplog.records if r.msg == "event refused"]
    assert logged.levelno == logging.ERROR
    fields = vars(logged)
    assert fields["expected"] == "an EventBridge Scheduled Event"
    assert fields["problem"] in str(raised.value)
    assert fields["event_keys"] == ["bad key", "source"]
    assert "jane.doe" not in json.dumps(fields, default=str)
