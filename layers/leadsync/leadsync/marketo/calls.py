"""One REST or bulk call: token, permit, send, classify, release. Nothing is retried here
except the single replay Marketo asks for after 601/602 (a new token, a new permit)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from datetime import datetime
from typing import TypeVar

import requests

from leadsync.limiter.api import Limiter, Outcome
from leadsync.marketo.auth import TokenProvider
from leadsync.marketo.classify import envelope_of, error_for_status, error_for_transport
from leadsync.marketo.config import MarketoClientConfig
from leadsync.marketo.errors import MarketoError, MarketoTokenRejected
from leadsync.marketo.models import Envelope

T = TypeVar("T")
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@dataclass(frozen=True)
class Call:
    kind: str  # the metric name: lookup, create_only, list_add, bulk_submit...
    method: str
    path: str  # with its query string, already encoded
    body: bytes | None = None
    content_type: str | None = None
    read_timeout_s: float | None = None


@dataclass(eq=False)
class CallRunner:
    """Runs each call of the client (token, permit, send, classify, release); counts the
    calls sent and their failures."""

    rest_url: str
    tokens: TokenProvider
    limiter: Limiter
    session: requests.Session
    config: MarketoClientConfig
    _: KW_ONLY
    deadline: Callable[[], float]
    wall_clock: Callable[[], datetime]
    monotonic: Callable[[], float] = time.monotonic
    calls: Counter[str] = field(default_factory=Counter, init=False)  # HTTP requests, per kind
    errors: Counter[str] = field(default_factory=Counter, init=False)  # failures, per code

    def url(self, path: str) -> str:
        return self.rest_url + path

    def envelope(self, call: Call) -> Envelope:
        return self._with_token(call, self._read_envelope)

    def file(self, call: Call) -> bytes:
        """A bulk file (CSV); failures still come back as JSON envelopes."""
        return self._with_token(call, self._read_file)

    def _with_token(self, call: Call, reader: Callable[[requests.Response], T]) -> T:
        token = self.tokens.token()
        try:
            return self._once(call, token, reader)
        except MarketoTokenRejected:
            # Marketo's documented answer to 601/602: a new token, the call replayed once.
            self.tokens.invalidate(token)
            return self._once(call, self.tokens.token(), reader)

    def _once(self, call: Call, token: str, reader: Callable[[requests.Response], T]) -> T:
        deadline = self.deadline()
        permit = self.limiter.acquire(deadline_monotonic=deadline)
        outcome = Outcome.FAILED
        try:
            self.calls[call.kind] += 1
            response = self._send(call, token, deadline)
            outcome = Outcome.DONE
            return reader(response)
        except MarketoError as exc:
            outcome = exc.outcome
            self.errors[exc.code] += 1
            raise
        finally:
            self.limiter.release(permit, outcome)

    def _send(self, call: Call, token: str, deadline: float) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}", "Accept": JSON}
        if call.content_type:
            headers["Content-Type"] = call.content_type
        # A Lambda about to time out would leave the lease hanging: never wait past the work's
        # deadline, but always long enough for a normal answer.
        read = call.read_timeout_s or self.config.read_timeout_s
        remaining = deadline - self.monotonic()
        read = min(read, max(self.config.min_read_timeout_s, remaining))
        try:
            return self.session.request(
                call.method,
                self.url(call.path),
                data=call.body,
                headers=headers,
                timeout=(self.config.connect_timeout_s, read),
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            # `from None`: the exception text holds the URL, and GET URLs hold emails.
            raise error_for_transport(exc) from None

    def _read_envelope(self, response: requests.Response) -> Envelope:
        return envelope_of(response, config=self.config, now=self.wall_clock())

    def _read_file(self, response: requests.Response) -> bytes:
        kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if kind.endswith("json"):
            self._read_envelope(response)  # raises the classified error
        if response.status_code != 200:
            raise error_for_status(response.status_code)
        return response.content
