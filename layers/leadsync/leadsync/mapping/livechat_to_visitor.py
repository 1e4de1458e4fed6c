"""LiveChat archive entries → canonical visitors, or rejections that say why not.

Pure and defensive: an entry is untrusted JSON, so every access checks the type it gets
(livechat_chats.py reads the chats); visitors of one e-mail are merged (merge.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from leadsync.mapping.livechat_chats import (
    as_list,
    chat_parts,
    combine_threads,
    excerpt_of,
    filled_forms,
    form_answers,
    malformed,
)
from leadsync.mapping.merge import merge_visitors
from leadsync.mapping.sanitize import check_email, clean_field, clean_text
from leadsync.models import Rejection, RejectionReason, Visitor
from leadsync.runtime.clock import parse_iso

# LiveChat's name for a visitor who gave none.
_PLACEHOLDER_NAMES = frozenset({"customer", "visitor", "guest"})
# Form fields that are the visitor's identity, not an answer to a question.
_IDENTITY_FIELDS = frozenset({"name", "email"})
# Filled forms without a form_type are taken for pre-chat forms (older chats carry none).
_PRECHAT_FORMS = frozenset({"prechat", None})
# A chat time before this is a broken clock or a truncated value, not a chat.
EARLIEST_CHAT = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class MappingResult:
    chats: int  # distinct chat ids
    visitors: list[Visitor] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


def map_entries(entries: Iterable[object], *, not_after: datetime | None = None) -> MappingResult:
    """Group the per-thread entries by chat, map each chat, merge visitors by e-mail.

    Never raises on what the source sent: every chat becomes a visitor or one rejection.
    Thread times after `not_after` (or before 2000) are not believed.
    """
    chats, rejections = combine_threads(entries)
    visitors: list[Visitor] = []
    for chat in chats:
        mapped = to_visitor(chat, not_after=not_after)
        if isinstance(mapped, Visitor):
            visitors.append(mapped)
        else:
            rejections.append(mapped)
    return MappingResult(chats=len(chats), visitors=merge_visitors(visitors), rejections=rejections)


def to_visitor(chat: dict[str, Any], *, not_after: datetime | None = None) -> Visitor | Rejection:
    """Map one chat (all its threads) to a visitor; never raises on malformed input."""
    chat_id = chat.get("id")
    if not isinstance(chat_id, str):
        return malformed("unknown", "chat has no id", excerpt_of(chat))
    broken = chat.get("broken")
    if isinstance(broken, str):
        return malformed(chat_id, broken)
    try:
        return _map(chat_id, chat, not_after)
    except Exception as exc:  # whatever the data does, it is this chat's rejection
        return malformed(chat_id, f"cannot map chat: {type(exc).__name__}")


def _map(chat_id: str, chat: dict[str, Any], not_after: datetime | None) -> Visitor | Rejection:
    parts = chat_parts(chat)
    times = {id(thread): chat_time(thread.get("created_at"), not_after) for thread in parts.threads}
    threads = sorted(parts.threads, key=lambda thread: _sort_key(times[id(thread)]))
    forms = filled_forms(threads, parts.agent_ids)
    customer = parts.customer
    email = _email(chat_id, customer, forms, has_customer=bool(parts.customers))
    if isinstance(email, Rejection):
        return email
    first_name, last_name = split_name(customer.get("name"))
    if first_name is None:
        form_names = form_answers(forms, "name")
        first_name, last_name = split_name(form_names[-1] if form_names else None)
    visit = _dict(customer.get("visit"))
    geo = _dict(visit.get("geolocation"))
    pages = [page for page in as_list(visit.get("last_pages")) if isinstance(page, dict)]
    chat_times = [moment for moment in times.values() if moment is not None]
    tags = {
        tag for thread in threads for tag in as_list(thread.get("tags")) if isinstance(tag, str)
    }
    return Visitor(
        email=email,
        first_name=first_name,
        last_name=last_name,
        phone=customer.get("phone_number"),
        country=geo.get("country"),
        region=geo.get("region"),
        city=geo.get("city"),
        timezone=geo.get("timezone"),
        first_chat_at=min(chat_times) if chat_times else None,
        last_chat_at=max(chat_times) if chat_times else None,
        chat_count=1,
        referrer=visit.get("referrer"),
        landing_page=pages[0].get("url") if pages else None,
        tags=sorted(tags),
        chat_ids=[chat_id],
        prechat=prechat_answers(forms),
        customer_id=customer.get("id"),
    )


def _email(
    chat_id: str, customer: dict[str, Any], forms: list[dict[str, Any]], *, has_customer: bool
) -> str | Rejection:
    """The first valid address of the customer's profile, then of the forms (latest first);
    else the rejection that says what was missing or wrong."""
    candidates = [customer.get("email"), *reversed(form_answers(forms, "email"))]
    given = [value for value in candidates if _given(value)]
    checked = [check_email(value) for value in given]
    email = next((address for address, _ in checked if address is not None), None)
    if email is not None:
        return email
    if given:
        return Rejection(
            chat_id=chat_id,
            reason=RejectionReason.INVALID_EMAIL,
            detail="no valid e-mail in the customer profile or the chat forms: " + checked[0][1],
            value=clean_text(given[0]),
        )
    if not has_customer:
        return Rejection(
            chat_id=chat_id,
            reason=RejectionReason.NO_CUSTOMER,
            detail="chat has no customer and no e-mail in a form",
        )
    return Rejection(
        chat_id=chat_id,
        reason=RejectionReason.MISSING_EMAIL,
        detail="customer gave no e-mail in the profile or the chat forms",
    )


def split_name(value: object) -> tuple[str | None, str | None]:
    """`Anna Maria Smith` → (`Anna`, `Maria Smith`); placeholders and blanks → (None, None).

    Markup goes before the split, so a tag never takes the place of a first name.
    """
    name = clean_field(value)
    if name is None or name.casefold() in _PLACEHOLDER_NAMES:
        return None, None
    first, _, rest = name.partition(" ")
    return first, rest or None


def prechat_answers(forms: list[dict[str, Any]]) -> dict[str, str]:
    """Question (the field's label) → answer from the pre-chat forms; later forms win.

    A choice arrives as `{id, label}` and a multiple choice as `answers: [{id, label}]`:
    the labels are the answer. Cleaning and bounds are the visitor model's.
    """
    answers: dict[str, str] = {}
    for form in forms:
        if form.get("form_type") not in _PRECHAT_FORMS:
            continue
        for item in as_list(form.get("fields")):
            if not isinstance(item, dict) or item.get("type") in _IDENTITY_FIELDS:
                continue
            question = clean_field(item.get("label"))
            answer = _answer_text(item)
            if question and answer:
                answers[question] = answer
    return answers


def _answer_text(item: dict[str, Any]) -> str | None:
    answer = item.get("answer")
    if isinstance(answer, dict):
        return clean_field(answer.get("label"))
    if answer is None and isinstance(item.get("answers"), list):
        labels = [_choice(choice) for choice in item["answers"]]
        return clean_field(", ".join(label for label in labels if label)) or None
    return clean_field(answer)


def _choice(choice: object) -> str | None:
    return clean_field(choice.get("label") if isinstance(choice, dict) else choice)


def _given(value: object) -> bool:
    """Something was typed where an e-mail goes (even of the wrong type)."""
    if isinstance(value, str):
        return clean_text(value) is not None
    return value is not None and value != [] and value != {}


def _sort_key(moment: datetime | None) -> float:
    return moment.timestamp() if moment else float("-inf")


def chat_time(value: object, not_after: datetime | None = None) -> datetime | None:
    """An RFC 3339 time within [2000, not_after], else None: a broken time is no time."""
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        moment = parse_iso(value)
    except (ValueError, IndexError, OverflowError):
        return None
    if moment < EARLIEST_CHAT or (not_after is not None and moment > not_after):
        return None
    return moment


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
