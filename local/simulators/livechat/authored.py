"""Chats written to order, for workloads that must hold exact counts.

`authored_chat` builds one archived chat in LiveChat's shape (one customer, one agent, one
thread with a pre-chat form and a message) from the few attributes a test or benchmark
chooses: e-mail, name, time, country, tags, pre-chat answers and the customer id. Add such
chats to a running simulator with `POST /_sim/chats` (or `LiveChatSimulator.add_chats`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

AGENT_ID = "bob1@support.example.com"


def _at(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def authored_chat(
    chat_id: str,
    *,
    email: str,
    at: datetime,
    customer_id: str,
    name: str = "Ada Lovelace",
    country: str | None = None,
    tags: Sequence[str] = (),
    prechat: Mapping[str, str] | None = None,
    thread_id: str | None = None,
) -> dict[str, Any]:
    """One archived chat whose thread starts at `at` (what the archives' time filter reads)."""
    thread = thread_id or f"{chat_id}T"
    fields = [
        {"id": f"{chat_id}-f{n}", "type": "question", "label": label, "answer": answer}
        for n, (label, answer) in enumerate((prechat or {}).items())
    ]
    return {
        "id": chat_id,
        "users": [_customer(customer_id, at, name, email, country), _agent()],
        "threads": [
            {
                "id": thread,
                "created_at": _at(at),
                "active": False,
                "user_ids": [customer_id, AGENT_ID],
                "events": _events(thread, at, customer_id, fields),
                "tags": list(tags),
                "properties": {},
                "access": {"group_ids": [0]},
            }
        ],
        "properties": {},
        "access": {"group_ids": [0]},
    }


def _events(
    thread: str, at: datetime, customer_id: str, fields: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The pre-chat form at `at`, then the customer's message 20 seconds later."""
    return [
        {
            "id": f"{thread}_1",
            "created_at": _at(at),
            "type": "filled_form",
            "form_id": "170204377517300000",
            "form_type": "prechat",
            "fields": fields,
            "author_id": customer_id,
            "visibility": "all",
        },
        {
            "id": f"{thread}_2",
            "created_at": _at(at + timedelta(seconds=20)),
            "type": "message",
            "text": "Can I get a demo?",
            "author_id": customer_id,
            "visibility": "all",
        },
    ]


def _customer(
    customer_id: str, at: datetime, name: str, email: str, country: str | None
) -> dict[str, Any]:
    geolocation = {"country": country} if country is not None else {}
    return {
        "id": customer_id,
        "type": "customer",
        "present": False,
        "created_at": _at(at - timedelta(minutes=2)),
        "email_verified": True,
        "visit": {
            "started_at": _at(at - timedelta(minutes=1)),
            "last_pages": [],
            "geolocation": geolocation,
        },
        "statistics": {"chats_count": 1},
        "name": name,
        "email": email,
    }


def _agent() -> dict[str, Any]:
    return {
        "id": AGENT_ID,
        "type": "agent",
        "name": "Bob Support",
        "email": AGENT_ID,
        "present": True,
    }
