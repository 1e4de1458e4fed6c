"""LiveChat list_archives entries for tests: one entry per thread, as the API returns them."""

from __future__ import annotations

from typing import Any


def customer(
    *,
    email: str | None = "jane.doe@example.com",
    name: str | None = "Jane Doe",
    phone: str | None = None,
    geo: dict[str, Any] | None = None,
    referrer: str | None = "https://www.google.com/",
    pages: list[str] | None = None,
    user_id: str = "cust-1",
) -> dict[str, Any]:
    visit: dict[str, Any] = {
        "started_at": "2026-01-15T11:59:00.000000Z",
        "ip": "203.0.113.7",
        "last_pages": [
            {"opened_at": "2026-01-15T11:59:30.000000Z", "url": url, "title": "Page"}
            for url in (pages if pages is not None else ["https://shop.example.com/pricing"])
        ],
        "geolocation": geo
        if geo is not None
        else {
            "country": "Poland",
            "country_code": "PL",
            "region": "Mazowieckie",
            "city": "Warsaw",
            "timezone": "Europe/Warsaw",
        },
    }
    if referrer is not None:
        visit["referrer"] = referrer
    user: dict[str, Any] = {"id": user_id, "type": "customer", "visit": visit}
    if email is not None:
        user["email"] = email
    if name is not None:
        user["name"] = name
    if phone is not None:
        user["phone_number"] = phone
    return user


AGENT = {
    "id": "alice0@support.example.com",
    "type": "agent",
    "name": "Alice Agent",
    "email": "alice0@support.example.com",
}


def form(*fields: tuple[str, Any], author: str = "cust-1") -> dict[str, Any]:
    return {
        "id": "form-1",
        "created_at": "2026-01-15T12:00:01.000000Z",
        "type": "filled_form",
        "form_type": "prechat",
        "author_id": author,
        "fields": [
            {"id": str(index), "type": kind, "label": kind, "answer": answer}
            for index, (kind, answer) in enumerate(fields)
        ],
    }


def survey(
    *answers: tuple[str, Any],
    author: str = "cust-1",
    form_type: str | None = "prechat",
    event_id: str = "survey-1",
    created_at: str = "2026-01-15T12:00:02.000000Z",
) -> dict[str, Any]:
    """A filled form of questions, (label, answer) each: a dict answer is a single choice
    (`{id, label}`), a list is a multiple choice (sent in `answers`, as LiveChat does)."""
    fields: list[dict[str, Any]] = []
    for index, (label, answer) in enumerate(answers):
        item: dict[str, Any] = {"id": f"q{index}", "type": "question", "label": label}
        if isinstance(answer, list):
            item["type"] = "checkbox"
            item["answers"] = answer
        else:
            item["type"] = "radio" if isinstance(answer, dict) else "question"
            item["answer"] = answer
        fields.append(item)
    event: dict[str, Any] = {
        "id": event_id,
        "created_at": created_at,
        "type": "filled_form",
        "author_id": author,
        "fields": fields,
    }
    if form_type is not None:
        event["form_type"] = form_type
    return event


def message(
    text: Any,
    *,
    author: Any = "cust-1",
    created_at: str = "2026-01-15T12:00:10.000000Z",
    event_id: str = "m1",
    visibility: str = "all",
) -> dict[str, Any]:
    """A message event; the agent's when `author` is AGENT's id."""
    return {
        "id": event_id,
        "created_at": created_at,
        "type": "message",
        "text": text,
        "author_id": author,
        "visibility": visibility,
    }


def thread(
    thread_id: str = "T1",
    created_at: str = "2026-01-15T12:00:00.000000Z",
    *,
    events: list[dict[str, Any]] | None = None,
    tags: list[Any] | None = None,
) -> dict[str, Any]:
    return {
        "id": thread_id,
        "created_at": created_at,
        "active": False,
        "events": events or [],
        "tags": tags or [],
    }


def entry(
    chat_id: str = "C1",
    *,
    user: dict[str, Any] | None = None,
    thread_: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "id": chat_id,
        "users": [user if user is not None else customer(), dict(AGENT)],
        "thread": thread_ if thread_ is not None else thread(),
    }


# Hostile text, as visitors type it or as a broken client sends it.
HUGE = "A" * 10_240  # 10 kB
MARKUP = "<script>alert('x')</script>"
CONTROL = "ctrl\x00chars\x07here\x1b[31m\r\nBcc: x@example.net"
BIDI = "\u202eevil-rtl-override\u202c"
ZERO_WIDTH = "zero\u200bwidth\ufeff\u2060"
HOSTILE = (
    HUGE,
    MARKUP,
    '<b>Bold</b> &amp; <i>italic</i> <a href="javascript:alert(1)">click</a>',
    "<img src=x onerror=alert(1)",
    CONTROL,
    BIDI,
    ZERO_WIDTH,
    "{{7*7}} ${jndi:ldap://127.0.0.1/a}",
    "\ud800 lone surrogate",
    "\U000e0041\U000e0042 tag characters",
)


def hostile_customer(value: str, *, email: str = "hostile@example.com") -> dict[str, Any]:
    """A customer whose every mapped value is `value` (URLs keep a scheme so they are URLs)."""
    return customer(
        email=email,
        name=f"{value} {value}",
        phone=value,
        referrer=f"https://ref.example.com/?q={value}",
        pages=[f"https://shop.example.com/{value}"],
        geo={
            "country": value,
            "country_code": value,
            "region": value,
            "city": value,
            "timezone": value,
        },
    )


def hostile_entry(
    chat_id: str, value: str, *, email: str = "hostile@example.com"
) -> dict[str, Any]:
    """A chat with `value` in every field the mapping reads, the pre-chat form included."""
    return entry(
        chat_id,
        user=hostile_customer(value, email=email),
        thread_=thread(
            f"T-{chat_id}",
            events=[
                form(
                    ("name", value),
                    ("email", email),
                    ("question", value),  # "Company:" in LiveChat's default form
                    ("group_chooser", {"id": value, "label": value}),
                )
            ],
            tags=[value, f"{value}-2", *(f"t{i}-{value}" for i in range(60))],
        ),
    )
