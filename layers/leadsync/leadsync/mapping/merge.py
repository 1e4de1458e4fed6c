"""Visitors merged by e-mail: one person who chatted several times (or gave the same address
in several chats) is one visitor, newest values first."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from leadsync.models import Visitor

# the attributes one value of which the merged visitor keeps: the newest non-empty one
_TEXT_FIELDS = (
    "first_name",
    "last_name",
    "phone",
    "country",
    "region",
    "city",
    "timezone",
    "referrer",
    "landing_page",
    "customer_id",
)


def merge_visitors(visitors: Iterable[Visitor]) -> list[Visitor]:
    """One visitor per e-mail: newest non-empty values win, chats and tags are unioned."""
    groups: dict[str, list[Visitor]] = {}
    for visitor in visitors:
        groups.setdefault(visitor.email, []).append(visitor)
    merged = [_merge(group) if len(group) > 1 else group[0] for group in groups.values()]
    return sorted(merged, key=lambda visitor: visitor.email)


def _merge(group: list[Visitor]) -> Visitor:
    ordered = sorted(
        group, key=lambda v: v.last_chat_at.timestamp() if v.last_chat_at else float("-inf")
    )
    values: dict[str, Any] = {"email": ordered[0].email}
    for name in _TEXT_FIELDS:
        values[name] = next((getattr(v, name) for v in reversed(ordered) if getattr(v, name)), None)
    firsts = [v.first_chat_at for v in group if v.first_chat_at]
    lasts = [v.last_chat_at for v in group if v.last_chat_at]
    chat_ids = sorted({chat_id for v in group for chat_id in v.chat_ids})
    prechat: dict[str, str] = {}
    for visitor in ordered:  # oldest first: the latest answer to a question wins
        prechat.update(visitor.prechat)
    values.update(
        prechat=prechat,
        first_chat_at=min(firsts) if firsts else None,
        last_chat_at=max(lasts) if lasts else None,
        tags=sorted({tag for v in group for tag in v.tags}),
        chat_ids=chat_ids,
        chat_count=len(chat_ids),
    )
    return Visitor.model_validate(values)
