"""The facts of one LiveChat chat that its Marketo activity carries: when it started and
ended, who took part, where it started, how it went.

Read from one combined chat (mapping/livechat_chats.py `combine_threads`), all its threads
together. The chat is untrusted JSON: every access checks the type it gets, every text is
cleaned and bounded as anything written to Marketo is, and odd shapes give missing facts,
never an error. Only a chat without an id or without a start time is refused.

Where LiveChat keeps them (its Agent Chat API v3.6 data structures and default properties):
the page a chat started on is its thread's `properties.routing.start_url` (else the
customer's `visit.last_pages`); the rating is `properties.rating.score` (1 good, 0 bad) and
`.comment`, on the chat or its threads; the groups are the chat's `access.group_ids`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leadsync.activities.config import TEXT_LENGTH, Source
from leadsync.activities.reading import (
    Thread,
    agent_names,
    group_ids,
    rating,
    start_page,
    tags,
    transcript,
)
from leadsync.mapping.livechat_chats import (
    as_list,
    chat_parts,
    excerpt_of,
    filled_forms,
    malformed,
)
from leadsync.mapping.livechat_to_visitor import chat_time, prechat_answers
from leadsync.mapping.sanitize import clean_text
from leadsync.models import MAX_ID_LENGTH, MAX_PRECHAT_ANSWERS, Rejection

# the events that are something said: what a chat's message count counts
MESSAGE_EVENTS = frozenset({"message", "file", "rich_message"})


@dataclass(frozen=True)
class ChatFacts:
    """What one chat was, every text cleaned; a fact the chat does not hold is None/empty."""

    chat_id: str
    started_at: datetime  # the first thread's start (else its first event), UTC
    ended_at: datetime | None = None  # its last event; so far, for a chat still going on
    active: bool = False  # a thread of it is still going on
    agent_names: tuple[str, ...] = ()
    group_ids: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    start_page: str | None = None
    message_count: int = 0
    rating: str | None = None  # "good" or "bad"
    rating_comment: str | None = None
    prechat: tuple[tuple[str, str], ...] = ()  # (question, answer) in the form's order
    transcript: str | None = None  # "Agent: ..." / "Visitor: ..." lines, as long as asked

    @property
    def duration_seconds(self) -> int | None:
        """Whole seconds from the start to the last event (of every thread together)."""
        if self.ended_at is None:
            return None
        return max(0, int((self.ended_at - self.started_at).total_seconds()))

    @property
    def prechat_answers(self) -> str | None:
        """The pre-chat answers as `Question: answer` lines."""
        lines = [
            f"{question.rstrip(':').rstrip() or question}: {answer}"
            for question, answer in self.prechat
        ]
        return "\n".join(lines) or None

    def fact(self, source: Source) -> str | int | datetime | None:
        """The value of one source, lists joined into text; None when the chat has none."""
        values: dict[Source, str | int | datetime | None] = {
            Source.AGENT_NAMES: ", ".join(self.agent_names) or None,
            Source.GROUP: ", ".join(self.group_ids) or None,
            Source.TAGS: ", ".join(self.tags) or None,
            Source.START_PAGE: self.start_page,
            Source.DURATION_SECONDS: self.duration_seconds,
            Source.MESSAGE_COUNT: self.message_count,
            Source.RATING: self.rating,
            Source.RATING_COMMENT: self.rating_comment,
            Source.PRECHAT_ANSWERS: self.prechat_answers,
            Source.TRANSCRIPT_EXCERPT: self.transcript,
            Source.ENDED_AT: self.ended_at,
        }
        return values[source]


def chat_facts(
    chat: object, *, transcript_length: int = 0, not_after: datetime | None = None
) -> ChatFacts | Rejection:
    """The facts of one combined chat, or the rejection that says why it has none.

    The transcript is read only when `transcript_length` asks for it (at most 65,535
    characters). Times after `not_after` (or before 2000) are not believed.
    """
    if not isinstance(chat, dict):
        return malformed("unknown", "chat is not an object", excerpt_of(chat))
    raw_id = chat.get("id")
    chat_id = clean_text(raw_id, MAX_ID_LENGTH) if isinstance(raw_id, str) else None
    if chat_id is None:
        return malformed("unknown", "chat has no id", excerpt_of(chat))
    broken = chat.get("broken")
    if isinstance(broken, str):
        return malformed(chat_id, broken)
    try:
        return _read(chat_id, chat, min(max(transcript_length, 0), TEXT_LENGTH), not_after)
    except Exception as exc:  # whatever the data does, it is this chat's rejection
        return malformed(chat_id, f"cannot read chat: {type(exc).__name__}")


def _read(
    chat_id: str, chat: dict[str, Any], transcript_length: int, not_after: datetime | None
) -> ChatFacts | Rejection:
    parts = chat_parts(chat)
    threads = sorted(
        (_thread(raw, not_after) for raw in parts.threads), key=lambda thread: thread.sort_key
    )
    starts = [thread.started_at for thread in threads if thread.started_at is not None]
    moments = [*starts, *(moment for thread in threads for moment in thread.times)]
    started = min(starts or moments, default=None)
    if started is None:
        return malformed(chat_id, "chat has no valid start time")
    events = [event for thread in threads for event in thread.visible]
    customer_ids = {user["id"] for user in parts.customers if isinstance(user.get("id"), str)}
    answers = prechat_answers(filled_forms([thread.raw for thread in threads], parts.agent_ids))
    score, comment = rating(chat, threads)
    return ChatFacts(
        chat_id=chat_id,
        started_at=started,
        ended_at=max(moments, default=started),
        active=any(thread.raw.get("active") is True for thread in threads),
        agent_names=agent_names(chat),
        group_ids=group_ids(chat, threads),
        tags=tags(threads),
        start_page=start_page(threads, parts.customer, started),
        message_count=sum(1 for event in events if event.get("type") in MESSAGE_EVENTS),
        rating=score,
        rating_comment=comment,
        prechat=tuple(answers.items())[:MAX_PRECHAT_ANSWERS],
        transcript=transcript(events, customer_ids, transcript_length),
    )


def _thread(raw: dict[str, Any], not_after: datetime | None) -> Thread:
    events = [event for event in as_list(raw.get("events")) if isinstance(event, dict)]
    times = [chat_time(event.get("created_at"), not_after) for event in events]
    return Thread(
        raw=raw,
        started_at=chat_time(raw.get("created_at"), not_after),
        times=tuple(moment for moment in times if moment is not None),
        visible=tuple(event for event in events if event.get("visibility", "all") == "all"),
    )
