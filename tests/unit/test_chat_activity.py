"""A chat's Marketo activity: its attributes under the activity map, each within its length
and all within Marketo's 65,536 bytes, and the record Marketo's call takes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from leadsync.activities.config import ActivityMap, default_activity_map
from leadsync.activities.facts import ChatFacts, chat_facts
from leadsync.activities.records import (
    MAX_ATTRIBUTES_BYTES,
    ChatActivity,
    activity_for,
    attributes_size,
    to_marketo,
)
from leadsync.mapping.livechat_chats import combine_threads
from tests.support.chats import AGENT, entry, message, survey, thread

START = datetime(2026, 1, 15, 12, tzinfo=UTC)
FACTS = ChatFacts(
    chat_id="C1",
    started_at=START,
    ended_at=START + timedelta(minutes=7, seconds=5),
    agent_names=("Alice Agent", "Bob Support"),
    group_ids=("0",),
    tags=("sales", "vip"),
    start_page="https://shop.example.com/pricing",
    message_count=6,
    rating="good",
    prechat=(("Company:", "Acme"),),
)


def _map(attributes: str) -> ActivityMap:
    return ActivityMap.parse(attributes)


def _text(api_name: str, source: str, max_length: int, data_type: str = "text") -> str:
    return (
        f'[attributes.{api_name}]\nsource = "{source}"\nname = "{api_name}"\n'
        f'data_type = "{data_type}"\nmax_length = {max_length}\n'
    )


def test_the_default_map_gives_every_fact_the_chat_has() -> None:
    activity = activity_for(FACTS, default_activity_map(), " Jane.Doe@Example.com ")
    assert activity.chat_id == "C1"
    assert activity.email == "jane.doe@example.com"
    assert activity.lead_id is None
    assert activity.activity_date == START
    assert activity.primary_value == "C1"
    assert activity.attributes == {
        "agentNames": "Alice Agent, Bob Support",
        "chatGroup": "0",
        "chatTags": "sales, vip",
        "startPage": "https://shop.example.com/pricing",
        "durationSeconds": 425,
        "messageCount": 6,
        "rating": "good",
        "prechatAnswers": "Company: Acme",
    }


def test_facts_the_chat_lacks_are_left_out() -> None:
    bare = ChatFacts(chat_id="C2", started_at=START)
    activity = activity_for(bare, default_activity_map(), "a@example.com", lead_id=7)
    assert activity.attributes == {"messageCount": 0}


def test_a_chat_read_from_livechat_becomes_its_activity() -> None:
    events = [
        survey(("Company:", "Acme")),
        message("Hello", created_at="2026-01-15T12:00:30Z"),
        message("Hi!", author=AGENT["id"], created_at="2026-01-15T12:01:00Z", event_id="m2"),
    ]
    chats, _ = combine_threads([entry(thread_=thread(events=events, tags=["demo"]))])
    amap = _map(_text("transcript", "transcript_excerpt", 15, "string"))
    facts = chat_facts(chats[0], transcript_length=amap.transcript_length)
    assert isinstance(facts, ChatFacts)
    activity = activity_for(facts, amap, "jane.doe@example.com", lead_id=12)
    assert activity.attributes == {"transcript": "Visitor: Hello"}


def test_each_text_is_cut_to_its_attribute_s_length() -> None:
    facts = ChatFacts(chat_id="C1", started_at=START, tags=tuple(f"tag{i:03d}" for i in range(50)))
    amap = _map(
        _text("tagsShort", "tags", 12, "string")
        + '[attributes.tagsDefault]\nsource = "tags"\nname = "Tags"\ndata_type = "string"\n'
    )
    attributes = activity_for(facts, amap, "a@example.com").attributes
    assert attributes["tagsShort"] == "tag000, tag0"
    assert len(str(attributes["tagsDefault"])) == 255


def test_a_time_is_written_in_iso_8601_with_its_offset() -> None:
    amap = _map('[attributes.endedAt]\nsource = "ended_at"\nname = "Ended"\ndata_type = "datetime"')
    attributes = activity_for(FACTS, amap, "a@example.com").attributes
    assert attributes == {"endedAt": "2026-01-15T12:07:05+00:00"}


def test_attributes_beyond_marketo_s_bytes_cut_the_longest_text_first() -> None:
    transcript = "Visitor: zażółć gęślą jaźń " * 3000  # non-ASCII: 6 bytes each as JSON
    facts = ChatFacts(
        chat_id="C1",
        started_at=START,
        ended_at=START + timedelta(seconds=30),
        message_count=9,
        prechat=(("Company", "A" * 5000),),
        transcript=transcript,
        tags=("vip",),
    )
    amap = _map(
        _text("transcript", "transcript_excerpt", 65_535)
        + _text("answers", "prechat_answers", 3000)
        + _text("chatTags", "tags", 255, "string")
        + '[attributes.messages]\nsource = "message_count"\nname = "M"\ndata_type = "integer"\n'
    )
    attributes = activity_for(facts, amap, "a@example.com").attributes
    assert attributes_size(attributes) <= MAX_ATTRIBUTES_BYTES
    assert attributes_size(attributes) > MAX_ATTRIBUTES_BYTES - 20  # cut no more than needed
    assert transcript.startswith(str(attributes["transcript"]))
    assert attributes["answers"] == "Company: " + "A" * 2991
    assert (attributes["chatTags"], attributes["messages"]) == ("vip", 9)


def test_texts_cut_to_nothing_are_left_out() -> None:
    facts = ChatFacts(chat_id="C1", started_at=START, message_count=3, transcript="ü" * 65_535)
    amap = _map(
        "".join(_text(f"part{i}", "transcript_excerpt", 65_535) for i in range(3))
        + '[attributes.messages]\nsource = "message_count"\nname = "M"\ndata_type = "integer"\n'
    )
    attributes = activity_for(facts, amap, "a@example.com").attributes
    assert attributes_size(attributes) <= MAX_ATTRIBUTES_BYTES
    assert attributes["messages"] == 3
    assert sorted(attributes) == ["messages", "part2"]
    assert str(attributes["part2"]).startswith("ü" * 10_000)


def test_the_activity_refuses_what_marketo_would() -> None:
    good = {
        "chat_id": "C1",
        "email": "a@example.com",
        "activity_date": START,
        "primary_value": "C1",
    }
    assert ChatActivity.model_validate(good).attributes == {}
    for bad in (
        {"attributes": {"x": "y" * MAX_ATTRIBUTES_BYTES}},
        {"email": "not an address"},
        {"activity_date": datetime(2026, 1, 15, 12)},  # naive: no time zone
        {"lead_id": 0},
        {"chat_id": ""},
        {"campaign": 1},
    ):
        with pytest.raises(ValidationError):
            ChatActivity.model_validate({**good, **bad})


def test_the_activity_is_kept_in_utc_and_gets_its_lead_later() -> None:
    warsaw = timezone(timedelta(hours=1))
    activity = ChatActivity(
        chat_id="C1",
        email="a@example.com",
        activity_date=datetime(2026, 1, 15, 13, tzinfo=warsaw),
        primary_value="C1",
        attributes={"messageCount": 2, "happy": True, "score": 1.5},
    )
    assert activity.activity_date == START
    assert activity.activity_date.tzinfo is UTC
    placed = activity.on_lead(1234)
    assert (placed.lead_id, activity.lead_id) == (1234, None)
    assert placed.attributes == {"messageCount": 2, "happy": True, "score": 1.5}
    assert type(placed.attributes["messageCount"]) is int
    with pytest.raises(ValidationError):
        activity.lead_id = 5


def test_the_marketo_record_has_the_exact_shape_of_the_call() -> None:
    activity = activity_for(FACTS, default_activity_map(), "a@example.com", lead_id=318581)
    record = to_marketo(activity, 100001)
    assert record == {
        "leadId": 318581,
        "activityDate": "2026-01-15T12:00:00+00:00",
        "activityTypeId": 100001,
        "primaryAttributeValue": "C1",
        "attributes": [
            {"apiName": "agentNames", "value": "Alice Agent, Bob Support"},
            {"apiName": "chatGroup", "value": "0"},
            {"apiName": "chatTags", "value": "sales, vip"},
            {"apiName": "startPage", "value": "https://shop.example.com/pricing"},
            {"apiName": "durationSeconds", "value": 425},
            {"apiName": "messageCount", "value": 6},
            {"apiName": "rating", "value": "good"},
            {"apiName": "prechatAnswers", "value": "Company: Acme"},
        ],
    }
    assert json.loads(json.dumps(record)) == record
    assert datetime.fromisoformat(record["activityDate"]) == START


def test_no_record_without_the_lead_s_id_or_a_type_id() -> None:
    activity = activity_for(FACTS, default_activity_map(), "a@example.com")
    with pytest.raises(ValueError, match="the lead's id is not known yet"):
        to_marketo(activity, 100001)
    placed = activity.on_lead(5)
    for type_id in (0, -3, True):
        with pytest.raises(ValueError, match="is not a Marketo id"):
            to_marketo(placed, type_id)
