"""The body of one chat (users, threads, events, forms), drawn from the chat's own stream."""

from __future__ import annotations

import random
from typing import Any

from local.simulators.livechat import vocab
from local.simulators.livechat.plan import MINUTE, SECOND, ChatPlan, Person, between, pick
from local.simulators.livechat.timefmt import format_api

_CLIENT_ID = "c5e4f61e1a6c3b1521b541bc5c5a2ac5"
_HUGE_ANSWER = ("<p>" + "A" * vocab.HUGE_LENGTH)[: vocab.HUGE_LENGTH]
_HUGE_REFERRER = ("https://ref.example.com/?q=" + "x" * vocab.HUGE_LENGTH)[: vocab.HUGE_LENGTH]


def build_chat(
    rnd: random.Random, plan: ChatPlan, agent: dict[str, Any], tags: tuple[str, ...]
) -> dict[str, Any]:
    ids = plan.thread_ids
    threads = [_thread(rnd, plan, ids, agent, tags, index) for index in range(len(ids))]
    return {
        "id": plan.chat_id,
        "users": [_customer(rnd, plan, threads[-1]), dict(agent)],
        "threads": threads,
        "properties": {
            "routing": {"continuous": False, "pinned": False},
            "source": {"client_id": _CLIENT_ID},
        },
        "access": {"group_ids": [0]},
        "is_followed": False,
    }


def _thread(
    rnd: random.Random,
    plan: ChatPlan,
    ids: tuple[str, ...],
    agent: dict[str, Any],
    tags: tuple[str, ...],
    index: int,
) -> dict[str, Any]:
    person = plan.person
    thread_id = ids[index]
    last = len(ids) - 1
    active = plan.active and index == last
    events = _events(rnd, plan, thread_id, agent, index, active)
    return {
        "id": thread_id,
        "created_at": format_api(plan.thread_starts[index]),
        "active": active,
        "user_ids": [person.customer_id, agent["id"]],
        "events": events,
        "tags": _tags(rnd, person, tags),
        "properties": {"routing": {"start_url": vocab.PAGES[0][0]}},
        "access": {"group_ids": [0]},
        "previous_thread_id": ids[index - 1] if index else None,
        "next_thread_id": ids[index + 1] if index < last else None,
    }


class _Stamps:
    """The times of one thread's events: each a second to two minutes after the one before."""

    def __init__(self, rnd: random.Random, start: int) -> None:
        self._rnd = rnd
        self._clock = start

    def next(self) -> str:
        self._clock += between(self._rnd, SECOND, 2 * MINUTE)
        return format_api(self._clock)


def _events(
    rnd: random.Random,
    plan: ChatPlan,
    thread_id: str,
    agent: dict[str, Any],
    index: int,
    active: bool,
) -> list[dict[str, Any]]:
    """A thread's events: maybe the pre-chat form, a few messages each way, and the agent
    archiving the chat unless the thread is still running."""
    person = plan.person
    stamps = _Stamps(rnd, plan.thread_starts[index])
    events: list[dict[str, Any]] = []
    if _wants_form(rnd, person, index):
        huge = plan.huge and index == 0
        events.append(_prechat(rnd, person, f"{thread_id}_1", stamps.next(), huge))
    for turn in range(between(rnd, 2, 5)):
        from_customer = turn % 2 == 0
        events.append(
            {
                "id": f"{thread_id}_{len(events) + 1}",
                "created_at": stamps.next(),
                "type": "message",
                "text": pick(rnd, vocab.CUSTOMER_LINES if from_customer else vocab.AGENT_LINES),
                "author_id": person.customer_id if from_customer else agent["id"],
                "visibility": "all",
            }
        )
    if not active:
        events.append(
            {
                "id": f"{thread_id}_{len(events) + 1}",
                "created_at": stamps.next(),
                "type": "system_message",
                "system_message_type": "manual_archived_agent",
                "text": f"{agent['name']} archived the chat",
                "visibility": "all",
            }
        )
    return events


def _tags(rnd: random.Random, person: Person, tags: tuple[str, ...]) -> list[str]:
    chosen = sorted({pick(rnd, tags) for _ in range(between(rnd, 0, 3))}) if tags else []
    if person.hostile and rnd.random() < 0.3:
        chosen.append("<b>hot</b>")
    return chosen


def _wants_form(rnd: random.Random, person: Person, index: int) -> bool:
    # Visitors who give their e-mail only in the form always fill it at their first thread.
    if person.email_kind == "form":
        return index == 0 or rnd.random() < 0.5
    return rnd.random() < 0.4


def _prechat(
    rnd: random.Random, person: Person, event_id: str, at: str, huge: bool
) -> dict[str, Any]:
    fields: list[dict[str, Any]] = [
        {"id": "170204377517309999", "type": "name", "label": "Name:", "answer": person.name or ""},
    ]
    answer: str | None = None
    if person.email:
        answer = person.email if rnd.random() < 0.7 else f" {person.email.title()} "
    elif person.email_kind == "invalid" and rnd.random() < 0.5:
        answer = pick(rnd, vocab.INVALID_EMAILS)
    if answer is not None:
        fields.append(
            {"id": "170204377517310000", "type": "email", "label": "E-mail:", "answer": answer}
        )
    question = pick(rnd, vocab.COMPANIES)
    if person.hostile:
        question = pick(rnd, vocab.HOSTILE_STRINGS)
    if huge:
        question = _HUGE_ANSWER
    fields.append(
        {"id": "170204377517310001", "type": "question", "label": "Company:", "answer": question}
    )
    if rnd.random() < 0.3:
        department = int(rnd.random() * len(vocab.DEPARTMENTS))
        fields.append(
            {
                "id": "170204377517310002",
                "type": "group_chooser",
                "label": "Department:",
                "answer": {"id": str(department), "label": vocab.DEPARTMENTS[department]},
            }
        )
    return {
        "id": event_id,
        "created_at": at,
        "type": "filled_form",
        "form_id": "170204377517300000",
        "form_type": "prechat",
        "fields": fields,
        "author_id": person.customer_id,
        "visibility": "all",
    }


def _customer(rnd: random.Random, plan: ChatPlan, last: dict[str, Any]) -> dict[str, Any]:
    person = plan.person
    chats, threads, visits = plan.counters
    visit = _visit(rnd, plan, last)
    user: dict[str, Any] = {
        "id": person.customer_id,
        "type": "customer",
        "present": bool(last["active"]),
        "created_at": format_api(person.created_at),
        "email_verified": person.email_kind == "profile" and person.serial % 2 == 0,
        "visit": visit,
        "session_fields": _session_fields(rnd, person),
        "statistics": {
            "chats_count": chats,
            "threads_count": threads,
            "visits_count": visits,
            "page_views_count": visits * len(visit["last_pages"]),
            "greetings_shown_count": 0,
            "greetings_accepted_count": 0,
        },
    }
    if person.name is not None:
        user["name"] = person.name
    if person.profile_email is not None:
        user["email"] = person.profile_email
    if person.phone is not None:
        user["phone_number"] = person.phone
    if person.geo and person.serial % 5 == 0:
        geo = dict(person.geo)
        user["address"] = {
            "address": "1 Main St",
            "city": geo.get("city", ""),
            "country": geo.get("country", ""),
            "state": "",
            "postal_code": "00-001",
        }
    return user


def _visit(rnd: random.Random, plan: ChatPlan, last: dict[str, Any]) -> dict[str, Any]:
    """The customer's visit: the pages opened before the chat, where they came from."""
    person = plan.person
    first = plan.thread_starts[0]
    pages = [
        {
            "opened_at": format_api(first - (i + 1) * between(rnd, SECOND, 5 * MINUTE)),
            "url": url,
            "title": title,
        }
        for i, (url, title) in enumerate(rnd.sample(vocab.PAGES, between(rnd, 1, 4)))
    ]
    visit: dict[str, Any] = {
        "started_at": format_api(first - between(rnd, MINUTE, 20 * MINUTE)),
        "ip": f"203.0.113.{person.serial % 254 + 1}"
        if person.serial % 7
        else f"2001:db8::{person.serial:x}",
        "user_agent": vocab.USER_AGENTS[person.serial % len(vocab.USER_AGENTS)],
        "last_pages": pages,
    }
    if not last["active"]:
        visit["ended_at"] = last["events"][-1]["created_at"]
    if plan.huge:
        visit["referrer"] = _HUGE_REFERRER
    elif rnd.random() < 0.8:
        referrer = pick(rnd, vocab.REFERRERS)
        if person.hostile:
            referrer += "?q=" + pick(rnd, vocab.HOSTILE_STRINGS)
        visit["referrer"] = referrer
    if person.geo is not None:
        visit["geolocation"] = dict(person.geo)
    return visit


def _session_fields(rnd: random.Random, person: Person) -> list[dict[str, str]]:
    keys = vocab.SESSION_KEYS
    first = int(rnd.random() * len(keys))
    fields = [{keys[first]: f"{keys[first]}-{person.serial % 9 + 1}"}]
    if person.hostile:
        fields.append({"note": pick(rnd, vocab.HOSTILE_STRINGS)})
    return fields
