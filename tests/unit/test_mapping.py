from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadsync.mapping.livechat_chats import combine_threads
from leadsync.mapping.livechat_to_visitor import map_entries, split_name, to_visitor
from leadsync.mapping.merge import merge_visitors
from leadsync.mapping.sanitize import clean_text
from leadsync.models import Rejection, RejectionReason, Visitor
from tests.support.chats import AGENT, customer, entry, form, thread


def _one(entries: list[Any]) -> Visitor:
    result = map_entries(entries)
    assert result.rejections == []
    assert len(result.visitors) == 1
    return result.visitors[0]


def _rejection(entries: list[Any]) -> Rejection:
    result = map_entries(entries)
    assert result.visitors == []
    assert len(result.rejections) == 1
    return result.rejections[0]


def test_maps_the_customer_profile() -> None:
    visitor = _one(
        [
            entry(
                user=customer(
                    email=" Jane.Doe@Example.com ",
                    name="Jane Maria Doe",
                    phone="+1 555 0100",
                    referrer="https://www.bing.com/",
                    pages=["https://shop.example.com/", "https://shop.example.com/x"],
                ),
                thread_=thread(tags=["vip", "sales"]),
            )
        ]
    )
    assert visitor.email == "jane.doe@example.com"
    assert (visitor.first_name, visitor.last_name) == ("Jane", "Maria Doe")
    assert visitor.phone == "+1 555 0100"
    assert (visitor.country, visitor.region, visitor.city, visitor.timezone) == (
        "Poland",
        "Mazowieckie",
        "Warsaw",
        "Europe/Warsaw",
    )
    assert visitor.referrer == "https://www.bing.com/"
    assert visitor.landing_page == "https://shop.example.com/"
    assert visitor.tags == ["sales", "vip"]
    assert visitor.chat_ids == ["C1"]
    assert visitor.chat_count == 1
    assert visitor.first_chat_at == visitor.last_chat_at == datetime(2026, 1, 15, 12, tzinfo=UTC)


def test_email_and_name_from_the_prechat_form() -> None:
    visitor = _one(
        [
            entry(
                user=customer(email="", name="Customer"),
                thread_=thread(
                    events=[form(("name", "Max Mustermann"), ("email", " Max@Example.org "))]
                ),
            )
        ]
    )
    assert visitor.email == "max@example.org"
    assert (visitor.first_name, visitor.last_name) == ("Max", "Mustermann")


def test_profile_email_wins_over_the_form() -> None:
    visitor = _one([entry(thread_=thread(events=[form(("email", "other@example.org"))]))])
    assert visitor.email == "jane.doe@example.com"


def test_invalid_profile_email_falls_back_to_a_valid_form_email() -> None:
    visitor = _one(
        [
            entry(
                user=customer(email="not-an-email"),
                thread_=thread(events=[form(("email", "ok@example.org"))]),
            )
        ]
    )
    assert visitor.email == "ok@example.org"


def test_forms_filled_by_agents_are_ignored() -> None:
    rejection = _rejection(
        [
            entry(
                user=customer(email=None),
                thread_=thread(events=[form(("email", "agent@example.com"), author=AGENT["id"])]),
            )
        ]
    )
    assert rejection.reason is RejectionReason.MISSING_EMAIL


def test_missing_email_is_rejected_with_the_chat_id() -> None:
    rejection = _rejection([entry("C9", user=customer(email=None))])
    assert rejection.chat_id == "C9"
    assert rejection.reason is RejectionReason.MISSING_EMAIL


def test_invalid_email_is_rejected_with_the_value() -> None:
    rejection = _rejection([entry("C9", user=customer(email="john smith@example.com"))])
    assert rejection.reason is RejectionReason.INVALID_EMAIL
    assert rejection.value == "john smith@example.com"


def test_chat_without_customer_is_rejected() -> None:
    rejection = _rejection([{"id": "C3", "users": [dict(AGENT)], "thread": thread()}])
    assert rejection.reason is RejectionReason.NO_CUSTOMER


def test_agents_never_become_visitors() -> None:
    rejection = _rejection(
        [{"id": "C3", "users": [dict(AGENT), customer(email=None)], "thread": thread()}]
    )
    assert rejection.reason is RejectionReason.MISSING_EMAIL


def test_threads_of_one_chat_become_one_visitor() -> None:
    entries = [
        entry("C1", user=customer(email=None), thread_=thread("T1", "2026-01-15T10:00:00Z")),
        entry(
            "C1",
            user=customer(email=None),
            thread_=thread(
                "T2",
                "2026-01-15T12:00:00Z",
                events=[form(("email", "late@example.com"))],
                tags=["demo"],
            ),
        ),
        entry("C1", user=customer(email=None), thread_=thread("T2", "2026-01-15T12:00:00Z")),
    ]
    result = map_entries(entries)
    assert result.chats == 1
    assert result.rejections == []
    [visitor] = result.visitors
    assert visitor.email == "late@example.com"
    assert visitor.chat_count == 1
    assert visitor.first_chat_at == datetime(2026, 1, 15, 10, tzinfo=UTC)
    assert visitor.last_chat_at == datetime(2026, 1, 15, 12, tzinfo=UTC)
    assert visitor.tags == ["demo"]


def test_chats_with_threads_list_are_combined_too() -> None:
    chats, rejections = combine_threads(
        [{"id": "C1", "users": [], "threads": [thread("T1"), thread("T2"), "junk"]}]
    )
    assert rejections == []
    assert [t["id"] for t in chats[0]["threads"]] == ["T1", "T2"]


def test_merge_newest_non_empty_values_win() -> None:
    older = Visitor(
        email="a@example.com",
        first_name="Old",
        city="Warsaw",
        phone="1",
        tags=["x"],
        chat_ids=["C1"],
        first_chat_at=datetime(2026, 1, 1, tzinfo=UTC),
        last_chat_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    newer = Visitor(
        email="a@example.com",
        first_name="New",
        city=None,
        tags=["y"],
        chat_ids=["C2", "C3"],
        first_chat_at=datetime(2026, 1, 2, tzinfo=UTC),
        last_chat_at=datetime(2026, 1, 3, tzinfo=UTC),
    )
    other = Visitor(email="b@example.com", chat_ids=["C4"])
    merged = merge_visitors([newer, other, older])
    assert [v.email for v in merged] == ["a@example.com", "b@example.com"]
    visitor = merged[0]
    assert visitor.first_name == "New"
    assert visitor.city == "Warsaw"
    assert visitor.phone == "1"
    assert visitor.tags == ["x", "y"]
    assert visitor.chat_ids == ["C1", "C2", "C3"]
    assert visitor.chat_count == 3
    assert visitor.first_chat_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert visitor.last_chat_at == datetime(2026, 1, 3, tzinfo=UTC)


def test_same_email_in_two_chats_is_one_visitor() -> None:
    result = map_entries([entry("C1"), entry("C2", thread_=thread("T9", "2026-01-15T13:00:00Z"))])
    assert result.chats == 2
    [visitor] = result.visitors
    assert visitor.chat_ids == ["C1", "C2"]
    assert visitor.chat_count == 2


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Anna Smith", ("Anna", "Smith")),
        ("王小明", ("王小明", None)),
        ("  ", (None, None)),
        ("Customer", (None, None)),
        (None, (None, None)),
        (42, ("42", None)),
    ],
)
def test_split_name(raw: object, expected: tuple[str | None, str | None]) -> None:
    assert split_name(raw) == expected


HOSTILE = [
    "<script>alert('x')</script>",
    "ctrl\x00chars\x07here\x1b[31m\r\n",
    "\u202eevil-rtl-override\u202c",
    "A" * 10_240,
    '=HYPERLINK("http://127.0.0.1","csv")',
]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_are_sanitized(value: str) -> None:
    visitor = _one(
        [
            entry(
                user=customer(
                    name=value,
                    phone=value,
                    referrer=value,
                    pages=[value],
                    geo={"country": value, "city": value, "region": [value], "timezone": {}},
                ),
                thread_=thread(tags=[value, 7, None]),
            )
        ]
    )
    for field in (
        "first_name",
        "last_name",
        "phone",
        "country",
        "city",
        "referrer",
        "landing_page",
    ):
        text = getattr(visitor, field)
        assert text is None or (len(text) <= 255 and "\x00" not in text and "\u202e" not in text)
    assert visitor.region is None
    assert visitor.timezone is None


@pytest.mark.parametrize(
    "bad",
    [
        None,
        42,
        "chat",
        [],
        {},
        {"id": None},
        {"id": 7},
        {"id": ""},
        {"id": "C1"},
        {"id": "C1", "users": "nope", "thread": "nope"},
        {"id": "C1", "users": [None, 5, {"type": "customer", "email": 5}]},
        {"id": "C1", "users": [{"type": "customer", "email": "a@example.com", "visit": 5}]},
        {
            "id": "C1",
            "users": [
                {
                    "type": "customer",
                    "email": "a@example.com",
                    "visit": {"geolocation": "x", "last_pages": "x"},
                }
            ],
            "thread": {
                "created_at": 5,
                "tags": "x",
                "events": [None, {"type": "filled_form", "fields": "x"}],
            },
        },
        {
            "id": "C1",
            "users": [{"type": "customer", "email": "a@example.com"}],
            "thread": {"created_at": "yesterday"},
        },
    ],
)
def test_malformed_entries_never_crash(bad: Any) -> None:
    result = map_entries([bad])
    assert len(result.visitors) + len(result.rejections) == 1


def test_to_visitor_survives_unexpected_errors() -> None:
    class Exploding(dict[str, Any]):
        def get(self, key: str, default: Any = None) -> Any:
            if key == "users":
                raise TypeError("boom")
            return super().get(key, default)

    rejection = to_visitor(Exploding(id="C1"))
    assert isinstance(rejection, Rejection)
    assert rejection.reason is RejectionReason.MALFORMED_CHAT


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
_keys = st.sampled_from(
    [
        "id",
        "users",
        "thread",
        "threads",
        "type",
        "email",
        "name",
        "visit",
        "events",
        "fields",
        "answer",
        "created_at",
        "tags",
        "geolocation",
    ]
)
_chatlike = st.recursive(
    _json,
    lambda inner: st.dictionaries(_keys, inner, max_size=6) | st.lists(inner, max_size=3),
    max_leaves=30,
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_chatlike, max_size=5))
def test_arbitrary_json_never_crashes_and_nothing_disappears(entries: list[Any]) -> None:
    result = map_entries(entries)
    accounted = {r.chat_id for r in result.rejections}
    accounted |= {chat_id for v in result.visitors for chat_id in v.chat_ids}
    for raw in entries:
        chat_id = clean_text(raw.get("id"), 128) if isinstance(raw, dict) else None
        if isinstance(raw, dict) and isinstance(raw.get("id"), str) and chat_id:
            assert chat_id in accounted
    unusable = sum(
        1
        for raw in entries
        if not isinstance(raw, dict)
        or not isinstance(raw.get("id"), str)
        or not clean_text(raw["id"])
    )
    assert sum(1 for r in result.rejections if r.chat_id == "unknown") >= unusable
