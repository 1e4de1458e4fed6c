"""Faults applied to one request: the waits, the expired page id, the error or the lost answer.

Two failures are not LiveChat's own answers but what sits in front of it does: a load
balancer's 502 page (HTML, not LiveChat's JSON envelope), and a request held past the
client's read timeout whose connection then closes with nothing written.
"""

from __future__ import annotations

import threading

from local.simulators.livechat.archives import PageRegistry
from local.simulators.livechat.audit import Audit
from local.simulators.livechat.faults import (
    BAD_GATEWAY,
    PAGE_EXPIRED,
    TIMEOUT,
    Faults,
    Verdict,
)

BAD_GATEWAY_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n"
)


class BadGateway(Exception):
    """Answered by a load balancer, not by LiveChat: a 502 with an HTML page."""

    status = 502
    content_type = "text/html"
    body = BAD_GATEWAY_PAGE


class Dropped(Exception):
    """The request was held, then its connection closed without an answer."""


class Injector:
    """Turns the verdict of `Faults` into what the client meets, and counts it."""

    def __init__(self, faults: Faults, audit: Audit, pages: PageRegistry) -> None:
        self.faults = faults
        self.audit = audit
        self.pages = pages
        # Set while the server stops, so held and slow requests end at once.
        self._closing = threading.Event()

    def open(self) -> None:
        self._closing.clear()

    def release(self) -> None:
        self._closing.set()

    def archives(self, body: object, injected: list[str]) -> None:
        """Before a list_archives request is answered; raises its fault, if any."""
        page_id = body.get("page_id") if isinstance(body, dict) else None
        if not isinstance(page_id, str):
            page_id = None
        verdict = self.faults.decide(archives=True, page_id=page_id is not None)
        if verdict.expire_page and page_id is not None:
            self.pages.expire(page_id)
        kinds = list(verdict.kinds)
        # Counted when the client meets it: a page id expired by the control, or just now.
        if verdict.failure is None and page_id is not None and self.pages.is_expired(page_id):
            kinds.append(PAGE_EXPIRED)
        self._apply(verdict, kinds, injected)

    def configuration(self, injected: list[str]) -> None:
        """Before a Configuration API call is answered; raises its fault, if any."""
        verdict = self.faults.decide(archives=False)
        self._apply(verdict, list(verdict.kinds), injected)

    def _apply(self, verdict: Verdict, kinds: list[str], injected: list[str]) -> None:
        self.audit.count_faults(kinds)
        injected.extend(kinds)
        if verdict.delay:
            self._closing.wait(verdict.delay)
        if verdict.failure == TIMEOUT:
            self._closing.wait(verdict.hold)
            raise Dropped
        if verdict.failure == BAD_GATEWAY:
            raise BadGateway
        error = verdict.error()
        if error is not None:
            raise error
