"""The facts of a chat its activity carries, read from list_archives entries as the fetch
gets them: whole chats, chats of several threads, chats missing parts, hostile chats."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from leadsync.activities.config import Source
from leadsync.activities.facts import ChatFacts, chat_facts
from leadsync.mapping.livechat_chats import combine_threads
from leadsync.models import Rejection, RejectionReason
from local.simulators.livechat.data import GenerationParams, generate
from local.simulators.livechat.vocab import PAGES
from tests.support.chats import (
    AGENT,
    CONTROL,
    HOSTILE,
    MARKUP,
    customer,
    entry,
    form,
    message,
    survey,
    thread,
)

AGENT_ID = AGENT["id"]
START = datetime(2026, 1, 15, 12, tzinfo=UTC)


def _chat(*entries: dict[str, Any]) -> dict[str, Any]:
    chats, rejections = combine_threads(entries)
    assert rejections == []
    assert len(chats) == 1
    return chats[0]


def _facts(*entries: dict[str, Any], transcript_length: int = 0) -> ChatFacts:
    facts = chat_facts(_chat(*entries), transcript_length=transcript_length)
    assert isinstance(facts, ChatFacts), facts
    return facts


def _rejection(chat: object) -> Rejection:
    rejection = chat_facts(chat)
    assert isinstance(rejection, Rejection)
    assert rejection.reason is RejectionReason.MALFORMED_CHAT
    return rejection


def _with(base: dict[str, Any], **parts: Any) -> dict[str, Any]:
    return {**base, **parts}


def _rating(score: object, comment: object = None) -> dict[str, Any]:
    given: dict[str, Any] = {"score": score}
    if comment is not None:
        given["comment"] = comment
    return {"rating": given}


def _conversation() -> list[dict[str, Any]]:
    """A pre-chat form, a question and its answer, an agents-only note, a file, the archiving."""
    at = "2026-01-15T12:00:"
    return [
        form(("email", "jane.doe@example.com")),
        survey(("Company:", "Acme"), ("Department:", {"id": "1", "label": "Sales"})),
        message("Hi, I have a question about pricing.", created_at=f"{at}10Z", event_id="1"),
        message("Sure!", author=AGENT_ID, created_at=f"{at}40Z", event_id="2"),
        message("internal: VIP", author=AGENT_ID, created_at=f"{at}50Z", visibility="agents"),
        {
            "id": "4",
            "type": "file",
            "name": "quote.pdf",
            "author_id": "cust-1",
            "created_at": f"{at}55Z",
            "visibility": "all",
        },
        {
            "id": "5",
            "type": "system_message",
            "text": "Alice Agent archived the chat",
            "created_at": "2026-01-15T12:02:00Z",
            "visibility": "all",
        },
    ]


def _whole_chat() -> dict[str, Any]:
    return _with(
        entry(
            thread_=_with(
                thread(events=_conversation(), tags=["sales", "vip", "sales"]),
                properties={"routing": {"start_url": "https://shop.example.com/pricing?x=1"}},
            )
        ),
        access={"group_ids": [2, 5]},
        properties=_rating(1, "Very <b>helpful</b>"),
    )


def test_a_whole_chat_gives_every_fact() -> None:
    facts = _facts(_whole_chat(), transcript_length=500)
    assert facts.chat_id == "C1"
    assert facts.started_at == START
    assert facts.ended_at == datetime(2026, 1, 15, 12, 2, tzinfo=UTC)
    assert facts.duration_seconds == 120
    assert facts.active is False
    assert facts.agent_names == ("Alice Agent",)
    assert facts.group_ids == ("2", "5")
    assert facts.tags == ("sales", "vip")
    assert facts.start_page == "https://shop.example.com/pricing?x=1"
    assert facts.message_count == 3  # two messages and a file; the agents-only note is not
    assert (facts.rating, facts.rating_comment) == ("good", "Very helpful")
    assert facts.prechat_answers == "Company: Acme\nDepartment: Sales"
    assert facts.transcript == (
        "Visitor: Hi, I have a question about pricing.\nAgent: Sure!\nVisitor: [file] quote.pdf"
    )


def test_each_source_has_its_value() -> None:
    facts = _facts(_whole_chat())
    assert {source: facts.fact(source) for source in Source} == {
        Source.AGENT_NAMES: "Alice Agent",
        Source.GROUP: "2, 5",
        Source.TAGS: "sales, vip",
        Source.START_PAGE: "https://shop.example.com/pricing?x=1",
        Source.DURATION_SECONDS: 120,
        Source.MESSAGE_COUNT: 3,
        Source.RATING: "good",
        Source.RATING_COMMENT: "Very helpful",
        Source.PRECHAT_ANSWERS: "Company: Acme\nDepartment: Sales",
        Source.TRANSCRIPT_EXCERPT: None,  # not asked for: not read
        Source.ENDED_AT: datetime(2026, 1, 15, 12, 2, tzinfo=UTC),
    }


def test_the_threads_of_a_chat_are_read_together_in_time_order() -> None:
    later = thread(
        "T2",
        "2026-01-15T15:00:00Z",
        events=[message("Back again", created_at="2026-01-15T15:05:00Z", event_id="9")],
        tags=["vip", "billing"],
    )
    later["properties"] = {
        "routing": {"start_url": "https://shop.example.com/contact"},
        **_rating(0, "slow"),
    }
    first = thread("T1", events=_conversation(), tags=["sales", "vip"])
    first["properties"] = {"routing": {"start_url": "https://shop.example.com/pricing"}}
    facts = _facts(entry(thread_=later), entry(thread_=first), transcript_length=500)
    assert facts.started_at == START
    assert facts.ended_at == datetime(2026, 1, 15, 15, 5, tzinfo=UTC)
    assert facts.duration_seconds == 3 * 3600 + 5 * 60
    assert facts.tags == ("sales", "vip", "billing")
    assert facts.message_count == 4
    assert facts.start_page == "https://shop.example.com/pricing"
    assert (facts.rating, facts.rating_comment) == ("bad", "slow")
    assert facts.transcript is not None
    assert facts.transcript.endswith("Visitor: [file] quote.pdf\nVisitor: Back again")


def test_the_chat_s_own_rating_comes_before_its_threads() -> None:
    rated = _with(thread(), properties=_rating(0))
    chat = _with(entry(thread_=rated), properties=_rating(1))
    assert _facts(chat).rating == "good"
    assert _facts(entry(thread_=rated)).rating == "bad"


@pytest.mark.parametrize("score", [True, 2, -1, "maybe", None, [1], {"a": 1}])
def test_a_score_that_is_not_livechat_s_is_no_rating(score: object) -> None:
    chat = _with(entry(), properties=_rating(score))
    assert _facts(chat).rating is None


def test_a_rating_given_as_text_is_read() -> None:
    assert _facts(_with(entry(), properties=_rating(" Good "))).rating == "good"


def test_groups_come_from_the_threads_when_the_chat_names_none() -> None:
    first = _with(thread("T1"), access={"group_ids": [0, 3]})
    second = _with(thread("T2", "2026-01-15T13:00:00Z"), access={"group_ids": [3, "7", True]})
    assert _facts(entry(thread_=first), entry(thread_=second)).group_ids == ("0", "3", "7")
    chat = _with(entry(thread_=first), access={"group_ids": [9]})
    assert _facts(chat).group_ids == ("9",)


def test_the_start_page_falls_back_to_the_page_open_when_the_chat_started() -> None:
    user = customer(pages=["https://shop.example.com/", "https://shop.example.com/later"])
    pages = user["visit"]["last_pages"]
    pages[0]["opened_at"] = "2026-01-15T11:58:00Z"
    pages[1]["opened_at"] = "2026-01-15T12:30:00Z"  # after the start: another visit's page
    user["visit"]["last_pages"] = [{"url": "https://x.example.com/", "opened_at": 5}, *pages]
    assert _facts(entry(user=user)).start_page == "https://shop.example.com/"


@pytest.mark.parametrize("url", ["javascript:alert(1)", "/pricing", 42, None, ""])
def test_a_start_url_that_is_no_web_address_is_no_start_page(url: object) -> None:
    chat = entry(
        user=customer(pages=[]),
        thread_=_with(thread(), properties={"routing": {"start_url": url}}),
    )
    assert _facts(chat).start_page is None


def test_a_start_page_is_encoded_where_it_could_break_out() -> None:
    chat = entry(
        thread_=_with(
            thread(), properties={"routing": {"start_url": 'https://a.example.com/"><b>'}}
        )
    )
    assert _facts(chat).start_page == "https://a.example.com/%22%3E%3Cb%3E"


def test_a_chat_missing_its_parts_has_only_its_id_and_start() -> None:
    facts = _facts({"id": "C9", "thread": {"id": "T1", "created_at": "2026-01-15T12:00:00Z"}})
    assert facts == ChatFacts(chat_id="C9", started_at=START, ended_at=START)
    assert facts.duration_seconds == 0
    assert all(facts.fact(source) in (None, 0) for source in Source if source != Source.ENDED_AT)


@pytest.mark.parametrize(
    "odd",
    [
        {"users": "x", "access": [1], "properties": "rating"},
        {"users": [None, 5, {"type": "agent", "name": ["x"]}], "access": {"group_ids": "0"}},
        {"properties": {"rating": "good", "routing": None}, "access": {"group_ids": [[0]]}},
    ],
)
def test_odd_shapes_are_missing_facts_not_errors(odd: dict[str, Any]) -> None:
    odd_thread = {**thread(), "events": [None, "x", {"type": 5}], "tags": {"a": 1}}
    facts = _facts({"id": "C1", **odd, "thread": odd_thread})
    assert facts.started_at == START
    assert (facts.agent_names, facts.group_ids, facts.tags) == ((), (), ())
    assert (facts.rating, facts.start_page, facts.message_count) == (None, None, 0)


def test_the_start_is_the_first_event_when_the_thread_has_no_time() -> None:
    events = [message("hi", created_at="2026-01-15T12:03:00Z")]
    facts = _facts(entry(thread_={**thread(events=events), "created_at": "not a time"}))
    assert facts.started_at == datetime(2026, 1, 15, 12, 3, tzinfo=UTC)


def test_a_time_in_the_future_is_not_believed() -> None:
    events = [message("hi", created_at="2026-01-15T12:03:00Z")]
    chat = _chat(entry(thread_=thread(created_at="2026-02-01T00:00:00Z", events=events)))
    facts = chat_facts(chat, not_after=datetime(2026, 1, 20, tzinfo=UTC))
    assert isinstance(facts, ChatFacts)
    assert facts.started_at == datetime(2026, 1, 15, 12, 3, tzinfo=UTC)


def test_a_running_chat_is_marked_so() -> None:
    assert _facts(entry(thread_={**thread(), "active": True})).active is True


@pytest.mark.parametrize(
    ("chat", "detail"),
    [
        ("C1", "chat is not an object"),
        ({"thread": thread()}, "chat has no id"),
        ({"id": "  \u200b ", "thread": thread()}, "chat has no id"),
        ({"id": 12, "thread": thread()}, "chat has no id"),
        ({"id": "C1", "broken": "cannot read entry: KeyError"}, "cannot read entry: KeyError"),
        ({"id": "C1", "threads": []}, "chat has no valid start time"),
        ({"id": "C1", "threads": [{**thread(), "created_at": "2026-13-45"}]}, "no valid start"),
    ],
)
def test_a_chat_without_an_id_or_a_start_is_rejected(chat: object, detail: str) -> None:
    assert detail in _rejection(chat).detail


def test_a_huge_transcript_is_cut_to_the_length_asked() -> None:
    huge = "word " * 200_000  # 1 MB
    events = [message(huge, event_id=str(i)) for i in range(5)]
    facts = _facts(entry(thread_=thread(events=events)), transcript_length=2000)
    assert facts.transcript is not None
    assert len(facts.transcript) <= 2000
    assert facts.transcript.startswith("Visitor: word word")
    assert facts.message_count == 5
    assert _facts(entry(thread_=thread(events=events))).transcript is None


def test_the_transcript_is_bounded_by_the_largest_text_attribute() -> None:
    events = [message("x" * 70_000, event_id=str(i)) for i in range(3)]
    facts = _facts(entry(thread_=thread(events=events)), transcript_length=10**9)
    assert facts.transcript is not None
    assert len(facts.transcript) == 65_535


def test_markup_in_a_message_keeps_its_text_and_loses_its_tags() -> None:
    """Marketo puts attribute values into e-mails as they are (trigger tokens): a tag in a
    transcript would be a tag in the mail, so tags and stray brackets go as in every field."""
    events = [
        message(MARKUP, event_id="1"),
        message(CONTROL, author=AGENT_ID, event_id="2"),
        message("I <3 your <b>new</b> plan", event_id="3"),
    ]
    facts = _facts(entry(thread_=thread(events=events)), transcript_length=1000)
    assert facts.transcript == (
        "Visitor: alert('x')\nAgent: ctrlcharshere Bcc: x@example.net\nVisitor: I 3 your new plan"
    )


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_are_cleaned_wherever_they_are(value: str) -> None:
    agent = {**AGENT, "name": value}
    user = customer(pages=[])
    chat = _with(
        {"id": "C1", "users": [user, agent]},
        thread=_with(
            thread(events=[message(value), survey((value, value))], tags=[value]),
            access={"group_ids": [value]},
        ),
        properties=_rating(1, value),
    )
    facts = _facts(chat, transcript_length=65_535)
    texts = [
        *facts.agent_names,
        *facts.group_ids,
        *facts.tags,
        facts.rating_comment,
        facts.prechat_answers,
        facts.transcript,
    ]
    for text in (text for text in texts if text):
        assert not set(text) & {"<", ">", "\u202e", "\u200b", "\ud800"}
        assert not any(ord(char) < 32 and char != "\n" for char in text)
    assert all(len(name) <= 255 for name in facts.agent_names)
    assert all(len(tag) <= 100 for tag in facts.tags)


def test_every_chat_of_the_simulated_world_has_its_facts() -> None:
    entries = [
        {**{k: v for k, v in chat.items() if k != "threads"}, "thread": one}
        for chat in generate(GenerationParams(chats=200, seed=7))
        for one in chat["threads"]
    ]
    chats, _ = combine_threads(entries)
    facts = [chat_facts(chat, transcript_length=2000) for chat in chats]
    assert all(isinstance(fact, ChatFacts) for fact in facts)
    read = [fact for fact in facts if isinstance(fact, ChatFacts)]
    assert {fact.start_page for fact in read} == {PAGES[0][0]}
    assert {fact.group_ids for fact in read} == {("0",)}
    assert all(fact.agent_names and fact.message_count >= 2 for fact in read)
    assert any(fact.prechat for fact in read)
    assert any(fact.duration_seconds and fact.duration_seconds > 3600 for fact in read)
