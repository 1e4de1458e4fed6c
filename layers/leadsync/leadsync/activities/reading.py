"""The parts of a combined LiveChat chat that a chat's facts (facts.py) are read from, each
read defensively: a part of the wrong type is a part the chat does not have."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leadsync.mapping.livechat_chats import as_list
from leadsync.mapping.livechat_to_visitor import chat_time
from leadsync.mapping.sanitize import clean_field, clean_url
from leadsync.models import MAX_TAG_LENGTH, MAX_TAGS

MAX_AGENTS = 20
MAX_GROUPS = 20
MAX_GROUP_ID_LENGTH = 32
# LiveChat's `rating.score`: 1 thumbs up, 0 thumbs down
_SCORES = {1: "good", 0: "bad"}


@dataclass(frozen=True)
class Thread:
    """One thread of a chat with its times read."""

    raw: dict[str, Any]
    started_at: datetime | None  # its `created_at`, when a believable time
    times: tuple[datetime, ...]  # the believable times of its events
    visible: tuple[dict[str, Any], ...]  # its events everyone saw (agents-only notes left out)

    @property
    def sort_key(self) -> float:
        """Its start (else its first event) as a number; threads without a time go last."""
        first = self.started_at or min(self.times, default=None)
        return first.timestamp() if first is not None else float("inf")


def agent_names(chat: dict[str, Any]) -> tuple[str, ...]:
    """The names of the chat's agents, cleaned, each once, in the order LiveChat lists them."""
    users = [user for user in as_list(chat.get("users")) if isinstance(user, dict)]
    names = (clean_field(user.get("name")) for user in users if user.get("type") == "agent")
    return _unique(names)[:MAX_AGENTS]


def group_ids(chat: dict[str, Any], threads: list[Thread]) -> tuple[str, ...]:
    """The chat's groups (`access.group_ids`); when it names none, its threads' groups."""
    own = _group_ids(_dict(chat.get("access")).get("group_ids"))
    if own:
        return own
    found = (
        group
        for thread in threads
        for group in _group_ids(_dict(thread.raw.get("access")).get("group_ids"))
    )
    return _unique(found)[:MAX_GROUPS]


def _group_ids(value: object) -> tuple[str, ...]:
    return _unique(_group_id(item) for item in as_list(value))[:MAX_GROUPS]


def _group_id(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value) if 0 <= value < 2**63 else None
    return clean_field(value, MAX_GROUP_ID_LENGTH) if isinstance(value, str) else None


def tags(threads: list[Thread]) -> tuple[str, ...]:
    """The threads' tags, cleaned, each once, in the order the threads and tags come."""
    found = (
        clean_field(tag, MAX_TAG_LENGTH) if isinstance(tag, str) else None
        for thread in threads
        for tag in as_list(thread.raw.get("tags"))
    )
    return _unique(found)[:MAX_TAGS]


def start_page(threads: list[Thread], customer: dict[str, Any], started: datetime) -> str | None:
    """The page the chat started on: the first thread's `properties.routing.start_url` that
    is an http(s) URL; else, of the customer's `visit.last_pages`, the one opened last at or
    before the start (a page opened later belongs to another visit)."""
    for thread in threads:
        routing = _dict(_dict(thread.raw.get("properties")).get("routing"))
        url = clean_url(routing.get("start_url"))
        if url is not None:
            return url
    visit = _dict(customer.get("visit"))
    opened: list[tuple[datetime, str]] = []
    for page in as_list(visit.get("last_pages")):
        page = _dict(page)
        moment, url = chat_time(page.get("opened_at")), clean_url(page.get("url"))
        if moment is not None and url is not None and moment <= started:
            opened.append((moment, url))
    return max(opened, key=lambda page: page[0])[1] if opened else None


def rating(chat: dict[str, Any], threads: list[Thread]) -> tuple[str | None, str | None]:
    """("good" | "bad" | None, the comment | None): LiveChat's `properties.rating` of the
    chat, else of its latest thread that holds one."""
    holders = [chat, *(thread.raw for thread in reversed(threads))]
    ratings = [_dict(_dict(holder.get("properties")).get("rating")) for holder in holders]
    scores = (_score(given.get("score")) for given in ratings)
    comments = (clean_field(given.get("comment")) for given in ratings)
    return next((s for s in scores if s), None), next((c for c in comments if c), None)


def _score(value: object) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return _SCORES.get(value)
    if isinstance(value, str) and value.strip().casefold() in _SCORES.values():
        return value.strip().casefold()
    return None


def transcript(events: Iterable[dict[str, Any]], customer_ids: set[str], length: int) -> str | None:
    """The messages as `Visitor: text` (the chat's customers) and `Agent: text` (everyone
    else) lines, each cleaned as a field is, the whole cut to `length` characters; None for
    a length of 0. Files appear as `[file] name`."""
    lines: list[str] = []
    used = 0
    for event in events:
        if used >= length:
            break
        text = _said(event, length)
        if text is None:
            continue
        author = event.get("author_id")
        who = "Visitor" if isinstance(author, str) and author in customer_ids else "Agent"
        lines.append(f"{who}: {text}")
        used += len(lines[-1]) + 1
    return "\n".join(lines)[:length].rstrip() or None


def _said(event: dict[str, Any], length: int) -> str | None:
    kind = event.get("type")
    if kind == "message":
        return clean_field(event.get("text"), length)
    if kind == "file":
        name = clean_field(event.get("name"), length)
        return f"[file] {name}" if name else "[file]"
    return None


def _unique(values: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(value for value in values if value))


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
