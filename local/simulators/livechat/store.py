"""The chats the simulator serves, indexed by thread start for list_archives.

A record is either a generated chat (a Dataset and an index: built only when served) or a
chat added through the test API (kept as given). The index holds one key per thread:
(created_at in microseconds, record number, thread position) -- unique and totally ordered,
which is what keyset paging needs.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from local.simulators.livechat.data import Chat, Dataset
from local.simulators.livechat.timefmt import TimeFormatError, parse_api
from local.simulators.livechat.visitors import customer_of, normalize_email

Key = tuple[int, int, int]
Record = tuple[Dataset, int] | Chat


class ChatError(ValueError):
    """A chat handed to the store that it cannot index."""


class ChatStore:
    def __init__(self, datasets: Iterable[Dataset] = ()) -> None:
        self.lock = threading.RLock()
        self._records: list[Record] = []
        self._by_id: dict[str, int] | None = None  # built on the first add: ids cost to compute
        self.index: list[Key] = []
        for dataset in datasets:
            self.add_dataset(dataset, reindex=False)
        self._reindex()

    def __len__(self) -> int:
        return len(self._records)

    def add_dataset(self, dataset: Dataset, *, reindex: bool = True) -> int:
        with self.lock:
            self._records.extend((dataset, i) for i in range(len(dataset)))
            self._by_id = None
            if reindex:
                self._reindex()
            return len(dataset)

    def add_chats(self, chats: Iterable[Mapping[str, Any]]) -> tuple[int, int]:
        """Add or replace (same chat id) chats; returns (added, replaced)."""
        prepared = [_checked(chat) for chat in chats]
        with self.lock:
            by_id = self._ids()
            added = replaced = 0
            for chat in prepared:
                number = by_id.get(chat["id"])
                if number is None:
                    by_id[chat["id"]] = len(self._records)
                    self._records.append(chat)
                    added += 1
                else:
                    self._records[number] = chat
                    replaced += 1
            self._reindex()
            return added, replaced

    def chat(self, number: int) -> Chat:
        """A fresh copy of record `number` with `threads[]` (callers may change it)."""
        record = self._records[number]
        if isinstance(record, tuple):
            dataset, index = record
            return dataset.chat(index)
        return copy.deepcopy(record)

    def chats(self) -> Iterator[Chat]:
        for number in range(len(self._records)):
            yield self.chat(number)

    def find(self, chat_id: str) -> Chat | None:
        """A fresh copy of the chat with this id, if there is one."""
        with self.lock:
            number = self._ids().get(chat_id)
            return None if number is None else self.chat(number)

    def customer_email(self, number: int) -> str | None:
        record = self._records[number]
        if isinstance(record, tuple):
            dataset, index = record
            return normalize_email(dataset.plans[index].person.profile_email)
        customer = customer_of(record)
        return normalize_email(customer.get("email")) if customer else None

    def chat_id(self, number: int) -> str:
        record = self._records[number]
        if isinstance(record, tuple):
            dataset, index = record
            return dataset.plans[index].chat_id
        return str(record["id"])

    def _ids(self) -> dict[str, int]:
        if self._by_id is None:
            self._by_id = {self.chat_id(n): n for n in range(len(self._records))}
        return self._by_id

    def _reindex(self) -> None:
        keys: list[Key] = []
        for number, record in enumerate(self._records):
            if isinstance(record, tuple):
                dataset, index = record
                starts: Iterable[int] = dataset.plans[index].thread_starts
            else:
                starts = (parse_api(thread["created_at"]) for thread in record["threads"])
            keys.extend((start, number, pos) for pos, start in enumerate(starts))
        keys.sort()
        self.index = keys


def _checked(chat: Mapping[str, Any]) -> Chat:
    """A deep copy in stored form (`threads[]`), or ChatError."""
    if not isinstance(chat, Mapping) or not isinstance(chat.get("id"), str) or not chat["id"]:
        raise ChatError("every chat needs a non-empty string id")
    stored: Chat = copy.deepcopy(dict(chat))
    single = stored.pop("thread", None)
    threads = stored.get("threads")
    if threads is None:
        threads = [single] if single is not None else []
    if not isinstance(threads, list) or not threads:
        raise ChatError(f"chat {chat['id']}: needs threads[] (or thread)")
    for thread in threads:
        if not isinstance(thread, dict) or not isinstance(thread.get("id"), str):
            raise ChatError(f"chat {chat['id']}: every thread needs an id")
        try:
            parse_api(str(thread.get("created_at", "")))
        except TimeFormatError as exc:
            raise ChatError(f"chat {chat['id']}: thread created_at: {exc}") from exc
    stored["threads"] = threads
    return stored
