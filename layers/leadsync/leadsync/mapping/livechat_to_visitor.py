"""LiveChat archive entries → canonical visitors, or rejections that say why not.

Pure and defensive: an entry is untrusted JSON, so every access checks the type it gets.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from leadsync.mapping.sanitize import MAX_TEXT_LENGTH, check_email, clean_field, clean_text
from leadsync.models import MAX_EXCERPT_LENGTH, Rejection, RejectionReason, Visitor
from leadsync.runtime.clock import parse_iso

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
    "customer_id",
)
# Form fields that are the visitor's identity, not an answer to a question.
_IDENTITY_FIELDS = frozenset({"name", "email"})
# Filled forms without a form_type are taken for pre-chat forms (older chats carry none).
_PRECHAT_FORMS = frozenset({"prechat", None})
_URL_LENGTH = MAX_TEXT_LENGTH
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


def combine_threads(entries: Iterable[object]) -> tuple[list[dict[str, Any]], list[Rejection]]:
    """One chat per chat id with all its threads; entries without a usable id are rejected.

    list_archives returns one entry per thread (`thread`); chats built elsewhere may carry
    `threads`. The newest entry's users win: they describe the latest visit.
    """
    chats: dict[str, dict[str, Any]] = {}
    rejections: list[Rejection] = []
    for entry in entries:
        if not isinstance(entry, dict):
            detail = f"entry is {_kind(entry)}, not a chat object"
            rejections.append(_malformed("unknown", detail, _excerpt(entry)))
            continue
        chat_id = entry.get("id")
        if not isinstance(chat_id, str) or not clean_text(chat_id):
            problem = "is empty" if isinstance(chat_id, str) else f"is {_kind(chat_id)}"
            rejections.append(_malformed("unknown", f"entry's chat id {problem}", _excerpt(entry)))
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
    for thread in _threads_of(entry):
        thread_id = thread.get("id")
        key = thread_id if isinstance(thread_id, str) else f"#{len(chat['threads'])}"
        known = chat["threads"].get(key)
        if known is None or _event_count(thread) >= _event_count(known):
            chat["threads"][key] = thread


def _event_count(thread: dict[str, Any]) -> int:
    return len(_list(thread.get("events")))


def _threads_of(entry: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[object] = []
    if isinstance(entry.get("thread"), dict):
        found.append(entry["thread"])
    if isinstance(entry.get("threads"), list):
        found.extend(entry["threads"])
    return [thread for thread in found if isinstance(thread, dict)]


def to_visitor(chat: dict[str, Any], *, not_after: datetime | None = None) -> Visitor | Rejection:
    """Map one chat (all its threads) to a visitor; never raises on malformed input."""
    chat_id = chat.get("id")
    if not isinstance(chat_id, str):
        return _malformed("unknown", "chat has no id", _excerpt(chat))
    broken = chat.get("broken")
    if isinstance(broken, str):
        return _malformed(chat_id, broken)
    try:
        return _map(chat_id, chat, not_after)
    except Exception as exc:  # whatever the data does, it is this chat's rejection
        return _malformed(chat_id, f"cannot map chat: {type(exc).__name__}")


def _map(chat_id: str, chat: dict[str, Any], not_after: datetime | None) -> Visitor | Rejection:
    users = [user for user in _list(chat.get("users")) if isinstance(user, dict)]
    customers = [user for user in users if user.get("type") == "customer"]
    agent_ids = {user.get("id") for user in users if user.get("type") == "agent"}
    customer = customers[0] if customers else {}
    threads = [thread for thread in _list(chat.get("threads")) if isinstance(thread, dict)]
    times = {id(thread): _time(thread.get("created_at"), not_after) for thread in threads}
    threads.sort(key=lambda thread: _sort_key(times[id(thread)]))
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
    given = [value for value in candidates if _given(value)]
    checked = [check_email(value) for value in given]
    email = next((address for address, _ in checked if address is not None), None)
    if email is None:
        if given:
            return Rejection(
                chat_id=chat_id,
                reason=RejectionReason.INVALID_EMAIL,
                detail="no valid e-mail in the customer profile or the chat forms: "
                + checked[0][1],
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
    chat_times = [moment for moment in times.values() if moment is not None]
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
        first_chat_at=min(chat_times) if chat_times else None,
        last_chat_at=max(chat_times) if chat_times else None,
        chat_count=1,
        referrer=visit.get("referrer"),
        landing_page=pages[0].get("url") if pages else None,
        tags=sorted(tags),
        chat_ids=[chat_id],
        prechat=_prechat_answers(forms),
        customer_id=customer.get("id"),
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


def _form_answers(forms: list[dict[str, Any]], field_type: str) -> list[object]:
    return [
        item.get("answer")
        for form in forms
        for item in _list(form.get("fields"))
        if isinstance(item, dict) and item.get("type") == field_type
    ]


def _prechat_answers(forms: list[dict[str, Any]]) -> dict[str, str]:
    """Question (the field's label) → answer from the pre-chat forms; later forms win.

    A choice arrives as `{id, label}` and a multiple choice as `answers: [{id, label}]`:
    the labels are the answer. Cleaning and bounds are the visitor model's.
    """
    answers: dict[str, str] = {}
    for form in forms:
        if form.get("form_type") not in _PRECHAT_FORMS:
            continue
        for item in _list(form.get("fields")):
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


def _time(value: object, not_after: datetime | None = None) -> datetime | None:
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


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _kind(value: object) -> str:
    if value is None:
        return "null"
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string"}
    return names.get(type(value), "a list" if isinstance(value, list) else "an object")


def _excerpt(raw: object) -> str:
    """The start of an entry as JSON: the only trace of an entry without a chat id."""
    try:
        return json.dumps(raw, ensure_ascii=False, default=str)[: MAX_EXCERPT_LENGTH * 2]
    except (TypeError, ValueError, RecursionError):
        return type(raw).__name__


def _malformed(chat_id: str, detail: str, excerpt: str | None = None) -> Rejection:
    return Rejection(
        chat_id=chat_id, reason=RejectionReason.MALFORMED_CHAT, detail=detail, excerpt=excerpt
    )
