"""list_archives: request validation, filtering, keyset paging, one entry per thread."""

from __future__ import annotations

import bisect
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from local.simulators.livechat.data import Chat
from local.simulators.livechat.errors import ApiError
from local.simulators.livechat.store import ChatStore, Key
from local.simulators.livechat.timefmt import TimeFormatError, parse_filter
from local.simulators.livechat.visitors import normalize_email

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
MAX_CHAT_IDS = 1000
_BODY_KEYS = {"filters", "page_id", "sort_order", "limit", "highlights"}
_LOWEST: Key = (-(2**63), -1, -1)
_HIGHEST: Key = (2**63, 2**63, 2**63)


@dataclass(frozen=True)
class Query:
    low: Key
    high: Key
    customer_email: str | None
    chat_ids: frozenset[str] | None
    sort_order: str
    limit: int


@dataclass(frozen=True)
class PageState:
    query: Query
    anchor: Key
    forward: bool  # True: the entries after the anchor in sort order; False: those before


class PageRegistry:
    """Page ids handed out; like LiveChat's they are opaque and eventually forgotten.

    Expiring one (LiveChat keeps them a month) makes it unknown to `get`, so it is refused
    like any other; the registry still remembers it was expired, for the fault counts.
    """

    def __init__(self, capacity: int = 100_000) -> None:
        self._pages: OrderedDict[str, PageState] = OrderedDict()
        self._expired: OrderedDict[str, None] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def put(self, state: PageState) -> str:
        page_id = secrets.token_urlsafe(18)
        with self._lock:
            self._pages[page_id] = state
            while len(self._pages) > self._capacity:
                self._pages.popitem(last=False)
        return page_id

    def get(self, page_id: str) -> PageState | None:
        with self._lock:
            return self._pages.get(page_id)

    def expire(self, page_id: str) -> bool:
        """Expire one page id now; False when it was not a live one."""
        with self._lock:
            if self._pages.pop(page_id, None) is None:
                return False
            self._remember(page_id)
            return True

    def expire_all(self) -> int:
        """Expire every live page id now; how many there were."""
        with self._lock:
            expired = list(self._pages)
            self._pages.clear()
            for page_id in expired:
                self._remember(page_id)
            return len(expired)

    def is_expired(self, page_id: str) -> bool:
        with self._lock:
            return page_id in self._expired

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._expired.clear()

    def _remember(self, page_id: str) -> None:
        self._expired[page_id] = None
        while len(self._expired) > self._capacity:
            self._expired.popitem(last=False)


def parse_request(body: object, pages: PageRegistry) -> PageState | Query:
    if not isinstance(body, dict):
        raise ApiError("validation", "request body must be a JSON object")
    if "page_id" in body:
        # Unknown fields are ignored like elsewhere; the documented ones are not.
        others = sorted((set(body) & _BODY_KEYS) - {"page_id"})
        if others:
            raise ApiError("validation", f"page_id cannot be combined with {', '.join(others)}")
        page_id = body["page_id"]
        state = pages.get(page_id) if isinstance(page_id, str) else None
        if state is None:
            # LiveChat documents no error for this; `validation` is its type for a request
            # it cannot accept as written, and one message covers unknown and expired alike.
            raise ApiError("validation", "page_id is invalid or expired")
        return state
    sort_order = body.get("sort_order", "desc")
    if sort_order not in ("asc", "desc"):
        raise ApiError("validation", "sort_order must be asc or desc")
    limit = body.get("limit", DEFAULT_LIMIT)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ApiError("validation", f"limit must be an integer from 1 to {MAX_LIMIT}")
    filters = body.get("filters", {})
    if not isinstance(filters, dict):
        raise ApiError("validation", "filters must be an object")
    return Query(
        low=(_time(filters, "from"), -1, -1) if "from" in filters else _LOWEST,
        high=(_time(filters, "to"), 2**63, 2**63) if "to" in filters else _HIGHEST,
        customer_email=_customer_email(filters),
        chat_ids=_chat_ids(filters),
        sort_order=sort_order,
        limit=limit,
    )


def _time(filters: Mapping[str, Any], name: str) -> int:
    try:
        return parse_filter(filters[name])
    except TimeFormatError as exc:
        raise ApiError("validation", f"filters.{name}: {exc}") from exc


def _customer_email(filters: Mapping[str, Any]) -> str | None:
    if "customer_email" not in filters:
        return None
    email = normalize_email(filters["customer_email"])
    if email is None:
        raise ApiError("validation", "filters.customer_email must be an e-mail address")
    return email


def _chat_ids(filters: Mapping[str, Any]) -> frozenset[str] | None:
    if "chat_ids" not in filters:
        return None
    ids = filters["chat_ids"]
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise ApiError("validation", "filters.chat_ids must be a list of strings")
    if len(ids) > MAX_CHAT_IDS:
        raise ApiError("validation", f"filters.chat_ids takes at most {MAX_CHAT_IDS} ids")
    return frozenset(ids)


def list_archives(store: ChatStore, pages: PageRegistry, body: object) -> dict[str, Any]:
    request = parse_request(body, pages)
    if isinstance(request, Query):
        state = PageState(request, _HIGHEST if request.sort_order == "desc" else _LOWEST, True)
    else:
        state = request
    query = state.query
    with store.lock:
        keys = _matching(store, query)
        picked, has_before, has_after = _page(keys, state)
        cache: dict[int, Chat] = {}
        chats = [_entry(store, key, cache) for key in picked]
    answer: dict[str, Any] = {"chats": chats, "found_chats": len(keys)}
    if picked and has_after:
        answer["next_page_id"] = pages.put(PageState(query, picked[-1], True))
    if picked and has_before:
        answer["previous_page_id"] = pages.put(PageState(query, picked[0], False))
    return answer


def _matching(store: ChatStore, query: Query) -> list[Key]:
    index = store.index
    lo = bisect.bisect_left(index, query.low)
    hi = bisect.bisect_right(index, query.high)
    keep: list[Callable[[Key], bool]] = []
    if query.customer_email is not None:
        wanted = query.customer_email
        keep.append(lambda key: store.customer_email(key[1]) == wanted)
    if query.chat_ids is not None:
        ids = query.chat_ids
        keep.append(lambda key: store.chat_id(key[1]) in ids)
    window = index[lo:hi]
    if not keep:
        return window
    return [key for key in window if all(test(key) for test in keep)]


def _page(keys: list[Key], state: PageState) -> tuple[list[Key], bool, bool]:
    """The page's keys in sort order, and whether entries exist before / after it."""
    limit, anchor = state.query.limit, state.anchor
    ascending = state.query.sort_order == "asc"
    if ascending == state.forward:
        start = bisect.bisect_right(keys, anchor)
        stop = min(len(keys), start + limit)
    else:
        stop = bisect.bisect_left(keys, anchor)
        start = max(0, stop - limit)
    chunk = keys[start:stop]
    lower, upper = start > 0, stop < len(keys)
    if ascending:
        return chunk, lower, upper
    chunk.reverse()
    return chunk, upper, lower


def _entry(store: ChatStore, key: Key, cache: dict[int, Chat]) -> Chat:
    number, position = key[1], key[2]
    chat = cache.get(number)
    if chat is None:
        chat = cache[number] = store.chat(number)
    entry = {name: value for name, value in chat.items() if name != "threads"}
    entry["thread"] = chat["threads"][position]
    return entry
