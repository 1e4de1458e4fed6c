"""The fetch beyond lead writes, with fakes: its clock and settings, two list rules, fakes of
the list memberships, the erasure inbox and the remembered identities, and `chat`, one
LiveChat archive entry of a customer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from leadsync.erasure.request import ErasureRequest
from leadsync.lists.rules import ListRules
from leadsync.sync.fetch.batching import BatchLimits
from leadsync.sync.fetch.run import FetchSettings
from tests.support.chats import customer, entry, thread

NOW = datetime(2026, 1, 15, 13, 0, tzinfo=UTC)
SETTINGS = FetchSettings(limits=BatchLimits(300, 200_000), overlap=timedelta(minutes=10))
RULES = ListRules.parse(
    """
[[rules]]
list_id = 1001
tag = "pricing"

[[rules]]
list_id = 1002
country = "germany"
"""
)


@dataclass
class Memberships:
    known: dict[int, frozenset[int]] = field(default_factory=dict)
    asked: list[tuple[list[int], list[int]]] = field(default_factory=list)

    def memberships(
        self, lead_ids: Iterable[int], list_ids: Iterable[int]
    ) -> Mapping[int, frozenset[int]]:
        ids, lists = sorted(lead_ids), sorted(list_ids)
        self.asked.append((ids, lists))
        return {i: self.known.get(i, frozenset()) & set(lists) for i in ids}


@dataclass
class Inbox:
    requests: list[ErasureRequest] = field(default_factory=list)
    log: list[str] = field(default_factory=list)

    def take(self) -> list[ErasureRequest]:
        self.log.append("take")
        return list(self.requests)

    def confirm(self) -> None:
        self.log.append("confirm")


@dataclass
class Identities:
    remembered: dict[str, str] = field(default_factory=dict)

    def get_many(self, customer_ids: Iterable[str]) -> dict[str, str]:
        return {c: self.remembered[c] for c in customer_ids if c in self.remembered}

    def put_many(self, identities: Mapping[str, str]) -> int:
        self.remembered.update(identities)
        return len(identities)


def chat(
    chat_id: str,
    email: str,
    *,
    tags: tuple[str, ...] | list[str] = (),
    country: str = "Poland",
    cid: str = "",
) -> object:
    geo = {"country": country, "city": "X", "timezone": "Europe/Warsaw"}
    return entry(
        chat_id,
        user=customer(email=email, geo=geo, user_id=cid or f"cust-{chat_id}"),
        thread_=thread(f"T{chat_id}", "2026-01-15T12:30:00Z", tags=list(tags)),
    )
