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
