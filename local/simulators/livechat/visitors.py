"""The distinct visitors (by e-mail) a set of chats holds: the expected result of a sync.

The rule, per archive entry (one chat with one thread), as a fetcher sees it:
the customer's `users[].email` when it is a valid address once trimmed and lower-cased,
else the first valid `email` answer of a `filled_form` event in that thread. Agents never
count. Entries whose thread starts outside [start, end] (inclusive) are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from local.simulators.livechat.timefmt import parse_api, to_micros

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def normalize_email(raw: object) -> str | None:
    """Trimmed, lower-cased address, or None when it is not an e-mail at all."""
    if not isinstance(raw, str):
        return None
    email = raw.strip().lower()
    return email if _EMAIL_RE.match(email) else None


@dataclass(frozen=True)
class Visitor:
    email: str  # normalized
    source: str  # where the first sighting took it from: "profile" | "form"
    name: str  # first non-empty customer name seen ("" if none)
    customer_ids: tuple[str, ...]
    chat_ids: tuple[str, ...]
    thread_ids: tuple[str, ...]
    first_seen: str  # created_at of the earliest thread
    last_seen: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "email": self.email,
            "source": self.source,
            "name": self.name,
            "customer_ids": list(self.customer_ids),
            "chat_ids": list(self.chat_ids),
            "thread_ids": list(self.thread_ids),
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
        }


@dataclass
class _Acc:
    source: str
    name: str = ""
    customer_ids: list[str] = field(default_factory=list)
    chat_ids: list[str] = field(default_factory=list)
    thread_ids: list[str] = field(default_factory=list)
    seen: list[tuple[int, str]] = field(default_factory=list)


def customer_of(chat: Mapping[str, Any]) -> Mapping[str, Any] | None:
    for user in chat.get("users") or ():
        if isinstance(user, Mapping) and user.get("type") == "customer":
            return user
    return None


def threads_of(chat: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """`threads[]` of a stored chat, or the single `thread` of an archive entry."""
    if isinstance(chat.get("thread"), Mapping):
        yield chat["thread"]
    for thread in chat.get("threads") or ():
        if isinstance(thread, Mapping):
            yield thread


def form_email(thread: Mapping[str, Any]) -> str | None:
    for event in thread.get("events") or ():
        if not isinstance(event, Mapping) or event.get("type") != "filled_form":
            continue
        for item in event.get("fields") or ():
            if isinstance(item, Mapping) and item.get("type") == "email":
                email = normalize_email(item.get("answer"))
                if email:
                    return email
    return None


def entry_email(
    customer: Mapping[str, Any] | None, thread: Mapping[str, Any]
) -> tuple[str, str] | None:
    """(email, source) of one archive entry, or None."""
    if customer is not None:
        email = normalize_email(customer.get("email"))
        if email:
            return email, "profile"
    email = form_email(thread)
    return (email, "form") if email else None


def visitors(
    chats: Iterable[Mapping[str, Any]],
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[Visitor]:
    """Distinct visitors by normalized e-mail, sorted by e-mail."""
    low = to_micros(start) if start is not None else None
    high = to_micros(end) if end is not None else None
    found: dict[str, _Acc] = {}
    for chat in chats:
        customer = customer_of(chat)
        for thread in threads_of(chat):
            at = parse_api(str(thread.get("created_at", "")))
            if (low is not None and at < low) or (high is not None and at > high):
                continue
            hit = entry_email(customer, thread)
            if hit is None:
                continue
            email, source = hit
            acc = found.setdefault(email, _Acc(source=source))
            name = customer.get("name") if customer is not None else None
            if not acc.name and isinstance(name, str) and name.strip():
                acc.name = name
            _add(acc.customer_ids, str(customer.get("id", "")) if customer is not None else "")
            _add(acc.chat_ids, str(chat.get("id", "")))
            _add(acc.thread_ids, str(thread.get("id", "")))
            acc.seen.append((at, str(thread.get("created_at", ""))))
    return [_freeze(email, acc) for email, acc in sorted(found.items())]


def _add(items: list[str], value: str) -> None:
    if value and value not in items:
        items.append(value)


def _freeze(email: str, acc: _Acc) -> Visitor:
    acc.seen.sort()
    return Visitor(
        email=email,
        source=acc.source,
        name=acc.name,
        customer_ids=tuple(acc.customer_ids),
        chat_ids=tuple(acc.chat_ids),
        thread_ids=tuple(acc.thread_ids),
        first_seen=acc.seen[0][1],
        last_seen=acc.seen[-1][1],
    )
