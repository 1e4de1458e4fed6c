"""The LiveChat data generator: determinism, shape, the mix of odd cases, visitor listing."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest

from local.simulators.livechat.data import (
    Chat,
    Dataset,
    GenerationParams,
    generate,
    normalize_email,
    visitors,
)
from local.simulators.livechat.timefmt import parse_api, parse_filter
from local.simulators.livechat.visitors import customer_of

PARAMS = GenerationParams(seed=11, chats=1500)


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return Dataset(PARAMS)


@pytest.fixture(scope="module")
def chats(dataset: Dataset) -> list[Chat]:
    return list(dataset)


def _customer(chat: Chat) -> dict[str, Any]:
    found = customer_of(chat)
    assert found is not None
    return dict(found)


def _all_text(chats: list[Chat]) -> str:
    return json.dumps(chats, ensure_ascii=False)


def test_same_params_give_the_same_chats() -> None:
    params = GenerationParams(seed=3, chats=50)
    assert generate(params) == generate(params)
    assert generate(params) != generate(params.replace(seed=4))


def test_a_chat_is_identical_whether_built_alone_or_in_sequence(dataset: Dataset) -> None:
    assert Dataset(PARAMS).chat(700) == list(dataset)[700]


def test_chats_have_unique_ids_and_threads_inside_the_window(chats: list[Chat]) -> None:
    assert len(chats) == PARAMS.chats
    assert len({chat["id"] for chat in chats}) == len(chats)
    thread_ids = [thread["id"] for chat in chats for thread in chat["threads"]]
    assert len(set(thread_ids)) == len(thread_ids)
    low, high = PARAMS.start.timestamp() * 1e6, PARAMS.end.timestamp() * 1e6
    for chat in chats:
        starts = [parse_api(thread["created_at"]) for thread in chat["threads"]]
        assert starts == sorted(starts)
        assert all(low <= start < high for start in starts)
        assert 1 <= len(chat["threads"]) <= 4
        assert sum(thread["active"] for thread in chat["threads"][:-1]) == 0


def test_chat_object_carries_the_documented_fields(chats: list[Chat]) -> None:
    chat = chats[0]
    assert {"id", "users", "threads", "properties", "access"} <= set(chat)
    thread = chat["threads"][0]
    assert {"id", "created_at", "active", "events", "tags", "properties"} <= set(thread)
    customer = _customer(chat)
    assert {
        "id",
        "type",
        "created_at",
        "email_verified",
        "visit",
        "session_fields",
        "statistics",
    } <= set(customer)
    assert {"started_at", "ip", "user_agent", "last_pages"} <= set(customer["visit"])
    assert {"chats_count", "threads_count", "visits_count"} <= set(customer["statistics"])
    assert {user["type"] for user in chat["users"]} == {"customer", "agent"}
    forms = [
        e for c in chats for t in c["threads"] for e in t["events"] if e["type"] == "filled_form"
    ]
    assert forms
    assert all({"id", "type", "label", "answer"} <= set(f) for e in forms for f in e["fields"])


def test_email_mix_follows_the_fractions(dataset: Dataset) -> None:
    people = {plan.person.serial: plan.person for plan in dataset.plans}
    kinds = Counter(person.email_kind for person in people.values())
    total = len(people)
    expected = {
        "profile": PARAMS.email_profile,
        "form": PARAMS.email_form_only,
        "messy": PARAMS.email_messy,
        "invalid": PARAMS.email_invalid,
        "none": PARAMS.email_none,
    }
    for kind, share in expected.items():
        assert abs(kinds[kind] / total - share) < 0.06, (kind, kinds)


def test_every_email_variant_appears(chats: list[Chat]) -> None:
    raw = [_customer(chat).get("email", None) for chat in chats]
    assert any(email is None for email in raw)
    assert "" in raw
    assert any(isinstance(e, str) and e != e.strip() and normalize_email(e) for e in raw)
    assert any(isinstance(e, str) and e and normalize_email(e) is None for e in raw)
    form_only = [
        chat
        for chat in chats
        if not normalize_email(_customer(chat).get("email"))
        and any(
            f["type"] == "email" and normalize_email(f["answer"])
            for e in chat["threads"][0]["events"]
            if e["type"] == "filled_form"
            for f in e["fields"]
        )
    ]
    assert form_only


def test_zero_email_fractions_give_no_visitors() -> None:
    params = GenerationParams(
        seed=2,
        chats=200,
        email_profile=0,
        email_form_only=0,
        email_messy=0,
        email_invalid=0.5,
        same_email_new_device=0,
    )
    assert visitors(generate(params)) == []


def test_geolocation_full_partial_and_missing(chats: list[Chat]) -> None:
    shapes: Counter[str] = Counter()
    for chat in chats:
        geo = _customer(chat)["visit"].get("geolocation")
        if geo is None:
            shapes["missing"] += 1
        elif len(geo) == 7 and all(geo.values()):
            shapes["full"] += 1
        else:
            shapes["partial"] += 1
    assert set(shapes) == {"missing", "full", "partial"}


def test_returning_visitors_and_multi_thread_chats(chats: list[Chat]) -> None:
    by_customer: dict[str, list[Chat]] = {}
    for chat in chats:
        by_customer.setdefault(_customer(chat)["id"], []).append(chat)
    returning = [group for group in by_customer.values() if len(group) > 1]
    assert returning
    for group in returning:
        counts = [_customer(chat)["statistics"]["chats_count"] for chat in group]
        assert counts == list(range(1, len(group) + 1))
        assert len({_customer(chat).get("email") for chat in group}) == 1
    assert any(len(chat["threads"]) > 1 for chat in chats)


def test_unicode_and_hostile_values_are_present(chats: list[Chat]) -> None:
    text = _all_text(chats)
    # JSON escapes control characters, so they are looked for in their escaped form.
    for marker in ("<script>", "王小明", "محمد", "🚀", "Zoë", "\u202e", "\\u0000", "\\u001b"):
        assert marker in text, marker
    names = [_customer(chat).get("name") or "" for chat in chats]
    assert any("<" in name for name in names)
    huge = [chat for chat in chats if len(json.dumps(chat)) > 10_000]
    assert huge
    assert any("<b>hot</b>" in t["tags"] for c in chats for t in c["threads"])


def test_visitor_listing_counts_distinct_normalized_emails(chats: list[Chat]) -> None:
    found = visitors(chats)
    emails = [visitor.email for visitor in found]
    assert emails == sorted(set(emails))
    assert all(email == email.strip().lower() and normalize_email(email) for email in emails)
    assert not any(email.endswith("@support.example.com") for email in emails)
    assert {visitor.source for visitor in found} == {"profile", "form"}
    assert any(len(visitor.chat_ids) > 1 for visitor in found)
    assert any(len(visitor.customer_ids) > 1 for visitor in found)  # same e-mail, new device
    assert len(found) < len(chats)


def test_visitor_listing_respects_a_window(chats: list[Chat]) -> None:
    start = datetime(2026, 1, 10, tzinfo=UTC)
    end = datetime(2026, 1, 12, tzinfo=UTC)
    inside = visitors(chats, start, end)
    assert 0 < len(inside) < len(visitors(chats))
    low = parse_filter("2026-01-10T00:00:00.000000+00:00")
    for visitor in inside:
        assert parse_api(visitor.first_seen) >= low


def test_params_are_validated() -> None:
    with pytest.raises(ValueError, match="add up"):
        GenerationParams(email_profile=0.9, email_form_only=0.2)
    with pytest.raises(ValueError, match="end must be after start"):
        GenerationParams(start=datetime(2026, 2, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="unknown"):
        GenerationParams.from_mapping({"colour": "red"})
    params = GenerationParams.from_mapping(
        {"seed": 5, "start": "2026-03-01T00:00:00Z", "end": "2026-03-02"}
    )
    assert params.start == datetime(2026, 3, 1, tzinfo=UTC)
    assert GenerationParams.from_mapping(params.to_dict()) == params
