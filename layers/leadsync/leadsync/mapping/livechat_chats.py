"""LiveChat archive entries → chats, read defensively: the threads of a chat combined under
its id, and the parts of a chat both the mapping and the erasure markers read (its customer,
its agents, its threads, the forms the customer filled in).

An entry is untrusted JSON: every access checks the type it gets.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from leadsync.mapping.sanitize import clean_text
from leadsync.models import MAX_EXCERPT_LENGTH, Rejection, RejectionReason

# The parts of an entry that describe the whole chat, not one thread, kept from the newest.
_CHAT_LEVEL = ("access", "properties")


def combine_threads(entries: Iterable[object]) -> tuple[list[dict[str, Any]], list[Rejection]]:
    """One chat per chat id with all its threads; entries without a usable id are rejected.

    list_archives returns one entry per thread (`thread`); chats built elsewhere may carry
    `threads`. The newest entry's users win: they describe the latest visit; so do its
    chat-level `access` (the chat's groups) and `properties` (its rating, among others).
    """
    chats: dict[str, dict[str, Any]] = {}
    rejections: list[Rejection] = []
    for entry in entries:
        if not isinstance(entry, dict):
            detail = f"entry is {_kind(entry)}, not a chat object"
            rejections.append(malformed("unknown", detail, excerpt_of(entry)))
            continue
        chat_id = entry.get("id")
        if not isinstance(chat_id, str) or not clean_text(chat_id):
            problem = "is empty" if isinstance(chat_id, str) else f"is {_kind(chat_id)}"
            rejections.append(malformed("unknown", f"entry's chat id {problem}", excerpt_of(entry)))
            continue
        chat = chats.setdefault(chat_id, {"id": chat_id, "users": [], "threads": {}})
        try:
            _add_entry(chat, entry)
        except Exception as exc:  # one broken entry must not stop the others
            chat.setdefault("broken", f"cannot read entry: {type(exc).__name__}")
    combined = [{**chat, "threads": list(chat["threads"].values())} for chat in chats.values()]
    return combined, rejections


def _add_entry(chat: dict[str, Any], entry: dict[str, Any]) -> None:
    users = entry.get("users")
    if isinstance(users, list):
        chat["users"] = users
    for part in _CHAT_LEVEL:
        if isinstance(entry.get(part), dict):
            chat[part] = entry[part]
    for thread in _threads_of(entry):
        thread_id = thread.get("id")
        key = thread_id if isinstance(thread_id, str) else f"#{len(chat['threads'])}"
        known = chat["threads"].get(key)
        if known is None or _event_count(thread) >= _event_count(known):
            chat["threads"][key] = thread


def _event_count(thread: dict[str, Any]) -> int:
    return len(as_list(thread.get("events")))


def _threads_of(entry: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[object] = []
    if isinstance(entry.get("thread"), dict):
        found.append(entry["thread"])
    if isinstance(entry.get("threads"), list):
        found.extend(entry["threads"])
    return [thread for thread in found if isinstance(thread, dict)]


@dataclass(frozen=True)
class ChatParts:
    """A combined chat's customers, the ids of its agents, and its threads."""

    customers: list[dict[str, Any]]
    agent_ids: set[object]
    threads: list[dict[str, Any]]

    @property
    def customer(self) -> dict[str, Any]:
        """The chat's (first) customer; empty when it has none."""
        return self.customers[0] if self.customers else {}


def chat_parts(chat: dict[str, Any]) -> ChatParts:
    users = [user for user in as_list(chat.get("users")) if isinstance(user, dict)]
    return ChatParts(
        customers=[user for user in users if user.get("type") == "customer"],
        agent_ids={user.get("id") for user in users if user.get("type") == "agent"},
        threads=[thread for thread in as_list(chat.get("threads")) if isinstance(thread, dict)],
    )


def filled_forms(threads: list[dict[str, Any]], agent_ids: set[object]) -> list[dict[str, Any]]:
    """The forms filled in during the threads, in their order; those agents filled left out."""
    return [
        event
        for thread in threads
        for event in as_list(thread.get("events"))
        if isinstance(event, dict)
        and event.get("type") == "filled_form"
        and event.get("author_id") not in agent_ids
    ]


def form_answers(forms: list[dict[str, Any]], field_type: str) -> list[object]:
    """The answers to the forms' fields of one type (`email`, `name`), in order."""
    return [
        item.get("answer")
        for form in forms
        for item in as_list(form.get("fields"))
        if isinstance(item, dict) and item.get("type") == field_type
    ]


def as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _kind(value: object) -> str:
    if value is None:
        return "null"
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string"}
    return names.get(type(value), "a list" if isinstance(value, list) else "an object")


def excerpt_of(raw: object) -> str:
    """The start of an entry as JSON: the only trace of an entry without a chat id."""
    try:
        return json.dumps(raw, ensure_ascii=False, default=str)[: MAX_EXCERPT_LENGTH * 2]
    except (TypeError, ValueError, RecursionError):
        return type(raw).__name__


def malformed(chat_id: str, detail: str, excerpt: str | None = None) -> Rejection:
    return Rejection(
        chat_id=chat_id, reason=RejectionReason.MALFORMED_CHAT, detail=detail, excerpt=excerpt
    )
