"""Deterministic LiveChat chats: the same GenerationParams always give the same dataset.

Generation is two-staged so 100,000 chats stay cheap: `plan` draws the skeleton (times,
which visitor, thread ids, counters) of every chat in one pass, and each chat's body is
drawn from its own seeded stream only when asked for (`Dataset.chat(i)`). A server can then
hold a large dataset in a few megabytes and build just the pages it serves.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from local.simulators.livechat import vocab
from local.simulators.livechat.builder import build_chat
from local.simulators.livechat.params import DEFAULT_END, DEFAULT_START, GenerationParams
from local.simulators.livechat.plan import ChatPlan, Person, plan
from local.simulators.livechat.visitors import Visitor, normalize_email, visitors

__all__ = [
    "DEFAULT_END",
    "DEFAULT_START",
    "Chat",
    "ChatPlan",
    "Dataset",
    "GenerationParams",
    "Person",
    "Visitor",
    "chats_for_visitors",
    "generate",
    "iter_chats",
    "normalize_email",
    "visitors",
]

Chat = dict[str, Any]


class Dataset:
    """A planned dataset; chats are built on demand and are identical on every call."""

    def __init__(self, params: GenerationParams | None = None) -> None:
        self.params = params or GenerationParams()
        self.plans: list[ChatPlan] = plan(self.params)
        self._agents = [_agent(i) for i in range(self.params.agents)]
        self._tags = self.params.tags or vocab.TAGS

    def __len__(self) -> int:
        return len(self.plans)

    def __iter__(self) -> Iterator[Chat]:
        return (self.chat(i) for i in range(len(self.plans)))

    def chat(self, index: int) -> Chat:
        skeleton = self.plans[index]
        rnd = random.Random(self.params.seed * 1_000_003 + index)
        return build_chat(rnd, skeleton, self._agents[skeleton.agent], self._tags)


def visitor_count(params: GenerationParams) -> int:
    """Distinct e-mails of the dataset's visitors, read from the plan alone (cheap)."""
    return len({chat.person.email for chat in plan(params) if chat.person.email})


def chats_for_visitors(params: GenerationParams, wanted: int, *, tries: int = 16) -> int:
    """The number of chats that makes the dataset hold `wanted` distinct visitors with an
    e-mail; when a few tries find no count giving exactly that many, the one giving the
    fewest above it. Each try plans a whole dataset (a change of size changes every chat)."""
    if wanted <= 0:
        return 0
    counts: dict[int, int] = {}
    chats = wanted * 2
    for _ in range(tries):
        count = counts[chats] = visitor_count(params.replace(chats=chats))
        if count == wanted:
            return chats
        # the share of chats that bring a new visitor is about constant: aim with it
        step = round((wanted - count) * chats / max(count, 1)) or (1 if count < wanted else -1)
        chats = max(1, chats + step)
        while chats in counts:
            chats += 1 if count < wanted else -1
    while max(counts.values()) < wanted:  # every try fell short: grow until one does not
        chats = max(counts) * 2
        counts[chats] = visitor_count(params.replace(chats=chats))
    return min((count, chats) for chats, count in counts.items() if count >= wanted)[1]


def iter_chats(params: GenerationParams | None = None) -> Iterator[Chat]:
    """Yield the chats (each with `threads[]`) in order of their first thread."""
    return iter(Dataset(params))


def generate(params: GenerationParams | None = None) -> list[Chat]:
    """All chats as a list; prefer Dataset / iter_chats for very large datasets."""
    return list(iter_chats(params))


def _agent(index: int) -> dict[str, Any]:
    name = vocab.AGENT_NAMES[index % len(vocab.AGENT_NAMES)]
    email = f"{name.split()[0].lower()}{index}@{vocab.AGENT_DOMAIN}"
    # Agent ids are their e-mails in LiveChat: a sync must not turn agents into leads.
    return {
        "id": email,
        "type": "agent",
        "name": name,
        "email": email,
        "present": True,
        "avatar": f"https://cdn.example.com/avatars/{index}.png",
        "visibility": "all",
    }
