"""LiveChat archive entries → canonical visitors, or rejections that say why not.

Pure and defensive: an entry is untrusted JSON, so every access checks the type it gets.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from leadsync.clock import parse_iso
from leadsync.models import Rejection, RejectionReason, Visitor
from leadsync.sanitize import MAX_TEXT_LENGTH, clean_text, normalize_email

# LiveChat's name for a visitor who gave none.
_PLACEHOLDER_NAMES = frozenset({"customer", "visitor", "guest"})
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
)
_URL_LENGTH = MAX_TEXT_LENGTH


@dataclass(frozen=True)
class MappingResult:
    chats: int  # distinct chat ids
    visitors: list[Visitor] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


def map_entries(entries: Iterable[object]) -> MappingResult:
    """Group the per-thread entries by chat, map each chat, merge visitors by e-mail."""
    chats, rejections = combine_threads(entries)
    visitors: list[Visitor] = []
    for chat in chats:
        mapped = to_visitor(chat)
        if isinstance(mapped, Visitor):
            visitors.append(mapped)
        else:
            rejections.append(mapped)
    return MappingResult(chats=len(chats), visitors=merge_visitors(visitors), rejections=rejections)


def combine_threads(entries: Iterable[object]) -> tuple[list[dict[str, Any]], list[Rejection]]:
    """One chat per chat id with all its threads; entries without a usable id are rejected.

    list_archives returns one entry per thread (`thread`); chats built elsewhere may carry
    `threads`. The newest entry's users win: they describe the latest visit.
    """
    chats: dict[str, dict[str, Any]] = {}
    rejections: list[Rejection] = []
    for entry in entries:
        if not isinstance(entry, dict):
            rejections.append(_malformed("unknown", f"entry is a {type(entry).__name__}"))
            continue
        chat_id = entry.get("id")
        if not isinstance(chat_id, str) or not clean_text(chat_id):
            rejections.append(_malformed("unknown", "entry has no chat id"))
            continue
        chat = chats.setdefault(chat_id, {"id": chat_id, "users": [], "threads": {}})
        users = entry.get("users")
        if isinstance(users, list):
            chat["users"] = users
        for thread in _threads_of(entry):
            thread_id = thread.get("id")
            key = thread_id if isinstance(thread_id, str) else f"#{len(chat['threads'])}"
            known = chat["threads"].get(key)
            if known is None or _event_count(thread) >= _event_count(known):
                chat["threads"][key] = thread
    combined = [{**chat, "threads": list(chat["threads"].values())} for chat in chats.values()]
    return combined, rejections


def _event_count(thread: dict[str, Any]) -> int:
    return len(_list(thread.get("events")))


def _threads_of(entry: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[object] = []
    if isinstance(entry.get("thread"), dict):
        found.append(entry["thread"])
    if isinstance(entry.get("threads"), list):
        found.extend(entry["threads"])
    return [thread for thread in found if isinstance(thread, dict)]


def to_visitor(chat: dict[str, Any]) -> Visitor | Rejection:
    """Map one chat (all its threads) to a visitor; never raises on malformed input."""
    chat_id = chat.get("id")
    if not isinstance(chat_id, str):
        return _malformed("unknown", "chat has no id")
    try:
        return _map(chat_id, chat)
    except (ValidationError, TypeError, ValueError, AttributeError, KeyError) as exc:
        return _malformed(chat_id, f"cannot map chat: {type(exc).__name__}")


def _map(chat_id: str, chat: dict[str, Any]) -> Visitor | Rejection:
    users = [user for user in _list(chat.get("users")) if isinstance(user, dict)]
    customers = [user for user in users if user.get("type") == "customer"]
    agent_ids = {user.get("id") for user in users if user.get("type") == "agent"}
    customer = customers[0] if customers else {}
    threads = sorted(
        (thread for thread in _list(chat.get("threads")) if isinstance(thread, dict)),
        key=_thread_time_key,
    )
    forms = [
        event
        for thread in threads
        for event in _list(thread.get("events"))
        if isinstance(event, dict)
        and event.get("type") == "filled_form"
        and event.get("author_id") not in agent_ids
    ]
    form_email = _form_answers(forms, "email")
    candidates = [customer.get("email"), *reversed(form_email)]
    given = [value for value in candidates if clean_text(value)]
    email = next((e for e in map(normalize_email, given) if e is not None), None)
    if email is None:
        if given:
            return Rejection(
                chat_id=chat_id,
                reason=RejectionReason.INVALID_EMAIL,
                detail="no valid e-mail in the customer profile or the chat forms",
                value=clean_text(given[0]),
            )
        if not customers:
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

    first_name, last_name = split_name(customer.get("name"))
    if first_name is None:
        form_names = _form_answers(forms, "name")
        first_name, last_name = split_name(form_names[-1] if form_names else None)
    visit = _dict(customer.get("visit"))
    geo = _dict(visit.get("geolocation"))
    pages = [page for page in _list(visit.get("last_pages")) if isinstance(page, dict)]
    times = [t for t in (_time(thread.get("created_at")) for thread in threads) if t]
    tags = {tag for thread in threads for tag in _list(thread.get("tags")) if isinstance(tag, str)}
    return Visitor(
        email=email,
        first_name=first_name,
        last_name=last_name,
        phone=customer.get("phone_number"),
        country=geo.get("country"),
        region=geo.get("region"),
        city=geo.get("city"),
        timezone=geo.get("timezone"),
        first_chat_at=min(times) if times else None,
        last_chat_at=max(times) if times else None,
        chat_count=1,
        referrer=visit.get("referrer"),
        landing_page=pages[0].get("url") if pages else None,
        tags=sorted(tags),
        chat_ids=[chat_id],
    )


def split_name(value: object) -> tuple[str | None, str | None]:
    """`Anna Maria Smith` → (`Anna`, `Maria Smith`); placeholders and blanks → (None, None)."""
    name = clean_text(value)
    if name is None or name.casefold() in _PLACEHOLDER_NAMES:
        return None, None
    first, _, rest = name.partition(" ")
    return first, rest or None


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
    values.update(
        first_chat_at=min(firsts) if firsts else None,
        last_chat_at=max(lasts) if lasts else None,
        tags=sorted({tag for v in group for tag in v.tags}),
        chat_ids=chat_ids,
        chat_count=len(chat_ids),
    )
    return Visitor.model_validate(values)


def _form_answers(forms: list[dict[str, Any]], field_type: str) -> list[object]:
    return [
        item.get("answer")
        for form in forms
        for item in _list(form.get("fields"))
        if isinstance(item, dict) and item.get("type") == field_type
    ]


def _thread_time_key(thread: dict[str, Any]) -> float:
    moment = _time(thread.get("created_at"))
    return moment.timestamp() if moment else float("-inf")


def _time(value: object) -> datetime | None:
    if not isinstance(value, str) or len(value) > 64:
        return None
    try:
        return parse_iso(value)
    except (ValueError, IndexError):
        return None


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _malformed(chat_id: str, detail: str) -> Rejection:
    return Rejection(chat_id=chat_id, reason=RejectionReason.MALFORMED_CHAT, detail=detail)
