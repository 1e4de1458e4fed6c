"""LiveChat Agent Chat API client: the archives of a time window, every page of them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import requests

from leadsync.errors import RateLimited, SourceError
from leadsync.marketo.guard import Guard, RetryPolicy, is_retryable
from leadsync.runtime.clock import as_utc

API_VERSION = "v3.6"
DEFAULT_API_URL = "https://api.livechatinc.com"
PAGE_SIZE = 100
# a window whose page ids keep expiring is read from its start at most this many times
MAX_WINDOW_RESTARTS = 3
CONNECT_TIMEOUT_SECONDS = 5.0
READ_TIMEOUT_SECONDS = 20.0

Chat = dict[str, Any]


class PageExpired(SourceError):
    """LiveChat refused a `page_id` it gave out: the walk cannot go on from there, but the
    same window read again from its start can."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=True)


def retry_page(exc: BaseException) -> bool:
    """What a page read waits out and tries again: a 5xx, a timeout, a lost connection and
    `too_many_requests` ("lifted after some time"). Not an expired page id: the same id
    would be refused again."""
    if isinstance(exc, PageExpired):
        return False
    return isinstance(exc, RateLimited) or is_retryable(exc)


def page_guard(remaining_s: Callable[[], float], policy: RetryPolicy | None = None) -> Guard:
    """Retries for LiveChat page reads (about 1 s, 4 s, 16 s, never past the invocation's
    time): one failed page costs a wait, not the whole run."""
    return Guard(policy=policy, remaining_s=remaining_s, retryable=retry_page)


def filter_time(moment: datetime) -> str:
    """RFC 3339 with microseconds and a numeric offset, as `filters.from/to` require."""
    return as_utc(moment).isoformat(timespec="microseconds")


class LiveChatClient:
    """One requests Session, HTTP Basic auth (account id : token), a timeout on every call."""

    def __init__(
        self,
        account_id: str,
        token: str,
        api_url: str = DEFAULT_API_URL,
        *,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS),
        page_size: int = PAGE_SIZE,
        guard: Guard | None = None,
    ) -> None:
        if not 1 <= page_size <= 100:
            raise ValueError("page_size must be within 1..100")
        self._url = f"{api_url.rstrip('/')}/{API_VERSION}/agent/action/"
        self._session = session or requests.Session()
        self._session.auth = (account_id, token)
        self._session.headers.update({"Content-Type": "application/json"})
        self._timeout = timeout
        self._page_size = page_size
        self._guard = guard  # without one every failure goes straight to the caller

    def close(self) -> None:
        self._session.close()

    def check(self, now: datetime) -> None:
        """One small list_archives request (the last minute, one chat): raises SourceError
        (or RateLimited) when LiveChat is out of reach or refuses the token."""
        body = {
            "filters": {"from": filter_time(now - timedelta(minutes=1)), "to": filter_time(now)},
            "limit": 1,
        }
        self._call("list_archives", body)

    def list_archives(self, since: datetime, until: datetime) -> Iterator[Chat]:
        """Every archive entry (one per thread) created in [since, until], oldest first.

        A failed page is retried by the guard. When a page id expires mid-walk the window is
        read again from its start, and the entries already given are not given again."""
        first: dict[str, Any] = {
            "filters": {"from": filter_time(since), "to": filter_time(until)},
            "limit": self._page_size,
            "sort_order": "asc",
        }
        given: set[tuple[str, str]] = set()
        restarts = 0
        while True:
            try:
                for chat in self._walk(first):
                    key = _entry_key(chat)
                    if key is not None and key in given:
                        continue
                    if key is not None:
                        given.add(key)
                    yield chat
                return
            except PageExpired:
                restarts += 1
                if restarts > MAX_WINDOW_RESTARTS:
                    raise

    def _walk(self, first: dict[str, Any]) -> Iterator[Chat]:
        body = first
        seen_pages: set[str] = set()
        while True:
            page = (
                self._guard.call("livechat list_archives", partial(self._page, body))
                if self._guard is not None
                else self._page(body)
            )
            chats = page.get("chats")
            if not isinstance(chats, list):
                raise SourceError(
                    "LiveChat list_archives answer has no `chats` list", retryable=True
                )
            yield from chats
            next_page = page.get("next_page_id")
            if not next_page or not chats:
                return
            if not isinstance(next_page, str):
                raise SourceError("LiveChat returned a page id that is not text", retryable=True)
            if next_page in seen_pages:
                raise SourceError("LiveChat returned a page id already read", retryable=True)
            seen_pages.add(next_page)
            body = {"page_id": next_page}

    def _page(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            return self._call("list_archives", body)
        except SourceError as exc:
            if "page_id" not in body or exc.retryable:
                raise
            # a page id expires (LiveChat keeps them a month, and may drop them sooner)
            raise PageExpired(f"{exc} (the page id expired; read again)") from exc

    def _call(self, action: str, body: dict[str, Any]) -> dict[str, Any]:
        payload = post_action(self._session, self._url, action, body, self._timeout)
        if not isinstance(payload, dict):
            raise SourceError(f"LiveChat {action} answered a non-object", retryable=True)
        return payload


def post_action(
    session: requests.Session,
    url: str,
    action: str,
    body: dict[str, Any],
    timeout: tuple[float, float],
) -> Any:
    """One LiveChat API action (`POST <url><action>`, JSON both ways): the answer's JSON
    (`{}` for an empty 200), or the project's exception for whatever went wrong."""
    try:
        response = session.post(url + action, json=body, timeout=timeout)
    except requests.Timeout as exc:
        raise SourceError(f"LiveChat {action} timed out", retryable=True) from exc
    except requests.RequestException as exc:
        raise SourceError(
            f"LiveChat {action} failed: {type(exc).__name__}", retryable=True
        ) from exc
    if response.status_code != 200:
        raise translate_error(action, response)
    try:
        return response.json() if response.content else {}
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep JSON
        raise SourceError(f"LiveChat {action} answered non-JSON", retryable=True) from exc


def _entry_key(chat: Any) -> tuple[str, str] | None:
    """An archive entry is one thread of one chat."""
    if not isinstance(chat, dict):
        return None
    thread = chat.get("thread")
    thread_id = thread.get("id") if isinstance(thread, dict) else None
    chat_id = chat.get("id")
    if not isinstance(chat_id, str) or not isinstance(thread_id, str):
        return None
    return chat_id, thread_id


def translate_error(action: str, response: requests.Response) -> SourceError | RateLimited:
    """The one place where LiveChat's HTTP and API errors become the project's exceptions."""
    status = response.status_code
    error_type, message = _error_body(response)
    text = f"LiveChat {action}: HTTP {status} {error_type or ''} {message}".strip()
    if status == 429 or error_type == "too_many_requests":
        return RateLimited(text, dependency="livechat", retry_after=_retry_after(response))
    if status in (401, 403) or error_type in ("authentication", "authorization"):
        return SourceError(text, retryable=False)
    if status >= 500 or error_type == "internal":
        return SourceError(text, retryable=True)
    return SourceError(text, retryable=False)


def _error_body(response: requests.Response) -> tuple[str | None, str]:
    try:
        payload = response.json()
    except (ValueError, RecursionError):
        return None, ""
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return None, ""
    error_type = error.get("type")
    message = error.get("message")
    return (
        error_type if isinstance(error_type, str) else None,
        message[:200] if isinstance(message, str) else "",
    )


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
