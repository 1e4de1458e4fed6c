"""Erasures asked for in LiveChat: the customers of chats marked by a session field with a
true value or by a tag, one request per address they gave (profile or form)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leadsync.erasure.request import ErasureRequest, ErasureSource, collapse
from leadsync.mapping.livechat_chats import (
    as_list,
    chat_parts,
    combine_threads,
    filled_forms,
    form_answers,
)
from leadsync.mapping.sanitize import clean_text, normalize_email

_TRUE_VALUES = frozenset({"true", "1", "yes", "y", "on"})


@dataclass(frozen=True)
class ErasureMarkers:
    """What marks a chat's customer for erasure: a session field with a true value (`true`,
    `1`, `yes`, `y`, `on`; case-insensitive) or one of the tags. Empty: nothing does."""

    session_field: str | None = None
    tags: frozenset[str] = frozenset()

    @classmethod
    def of(cls, session_field: str | None = None, tags: Iterable[str] = ()) -> ErasureMarkers:
        key = clean_text(session_field) if session_field else None
        cleaned = {clean_text(tag) for tag in tags}
        return cls(
            key.casefold() if key else None,
            frozenset(tag.casefold() for tag in cleaned if tag),
        )

    @property
    def enabled(self) -> bool:
        return self.session_field is not None or bool(self.tags)


def erasures_from_chats(
    entries: Iterable[object], markers: ErasureMarkers, *, requested_at: datetime
) -> list[ErasureRequest]:
    """The customers of marked chats, one request per address they gave (profile or form).

    Takes list_archives entries as the mapping does; never raises on what the source sent.
    A marked chat without a valid address yields nothing: there is no lead to find.
    """
    if not markers.enabled:
        return []
    chats, _ = combine_threads(entries)
    found: list[ErasureRequest] = []
    for chat in chats:
        try:
            found.extend(_chat_erasures(chat, markers, requested_at))
        except Exception:  # noqa: S112 - one broken chat must not stop the others
            continue
    return collapse(found)


def _chat_erasures(
    chat: dict[str, Any], markers: ErasureMarkers, requested_at: datetime
) -> list[ErasureRequest]:
    parts = chat_parts(chat)
    customer = parts.customer
    if not (_tagged(parts.threads, markers) or _flagged(customer, markers)):
        return []
    answers = form_answers(filled_forms(parts.threads, parts.agent_ids), "email")
    emails = [normalize_email(value) for value in [customer.get("email"), *answers]]
    customer_id = customer.get("id")
    return [
        ErasureRequest(
            email=email,
            source=ErasureSource.LIVECHAT,
            requested_at=requested_at,
            reference=chat.get("id"),
            customer_id=customer_id if isinstance(customer_id, str) else None,
        )
        for email in dict.fromkeys(emails)
        if email is not None
    ]


def _tagged(threads: list[dict[str, Any]], markers: ErasureMarkers) -> bool:
    if not markers.tags:
        return False
    for thread in threads:
        for tag in as_list(thread.get("tags")):
            cleaned = clean_text(tag) if isinstance(tag, str) else None
            if cleaned and cleaned.casefold() in markers.tags:
                return True
    return False


def _flagged(customer: dict[str, Any], markers: ErasureMarkers) -> bool:
    """`session_fields` is a list of one-key objects: [{"gdpr_erase": "true"}, ...]."""
    if markers.session_field is None:
        return False
    for pair in as_list(customer.get("session_fields")):
        if not isinstance(pair, dict):
            continue
        for key, value in pair.items():
            name = clean_text(key) if isinstance(key, str) else None
            if name is None or name.casefold() != markers.session_field:
                continue
            text = clean_text(value) if isinstance(value, str | bool) else None
            if value is True or (text is not None and text.casefold() in _TRUE_VALUES):
                return True
    return False
