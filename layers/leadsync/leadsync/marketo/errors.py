"""Marketo's failures as the project's exceptions; classify.py decides which one a call raised.

Every class carries the Marketo `code` (or `HTTP <status>`, or a `local:` code), Marketo's
`detail` message, the `request_id`, and the limiter `outcome` the call was released with.
"""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict, Unpack

from leadsync.errors import ConfigurationError, DependencyError, PermanentError, RateLimited
from leadsync.limiter.api import Outcome
from leadsync.marketo.models import RecordResult

DEPENDENCY = "marketo"


class Details(TypedDict, total=False):
    """What a Marketo exception carries beside its code and detail."""

    request_id: str | None
    outcome: Outcome  # the class's own default when left out
    http_status: int | None


class MarketoError(Exception):
    """Mixin every Marketo exception shares: `except MarketoError` catches them all."""

    code: str = ""
    detail: str = ""
    request_id: str | None = None
    outcome: Outcome = Outcome.DONE
    http_status: int | None = None
    # results of the calls of a multi-call write that succeeded before this one failed
    completed: tuple[RecordResult, ...] = ()

    def _describe(self, code: str, detail: str, details: Details) -> str:
        """Keep what Marketo said; return the exception's message."""
        self.code, self.detail = code, detail
        self.request_id = details.get("request_id")
        self.outcome = details.get("outcome", self.outcome)
        self.http_status = details.get("http_status")
        where = f" (requestId {self.request_id})" if self.request_id else ""
        return f"Marketo {code}: {detail}{where}"


class MarketoRetryable(DependencyError, MarketoError):
    """Transient: retry the call with backoff (502, 604, 608, 611, 713, 719, HTTP 5xx)."""

    def __init__(self, code: str, detail: str, **details: Unpack[Details]) -> None:
        message = self._describe(code, detail, details)
        DependencyError.__init__(self, message, dependency=DEPENDENCY, retryable=True)


class MarketoNoAnswer(MarketoRetryable):
    """Timeout or connection failure: the call may or may not have been applied."""


class MarketoBadResponse(MarketoRetryable):
    """An answer that is not a Marketo envelope (HTML from an edge, truncated JSON...)."""


class MarketoTokenRejected(MarketoRetryable):
    """601/602 again after a fresh token and one replay."""


class MarketoRateLimited(RateLimited, MarketoError):
    """606: the instance's call window is full; `retry_after` is a hint, pacing is the limiter's."""

    outcome = Outcome.RATE_LIMITED

    def __init__(
        self,
        code: str,
        detail: str,
        *,
        retry_after: float | None = None,
        **details: Unpack[Details],
    ) -> None:
        message = self._describe(code, detail, details)
        RateLimited.__init__(self, message, dependency=DEPENDENCY, retry_after=retry_after)


class MarketoConcurrencyLimited(MarketoRateLimited):
    """615: too many calls in flight instance-wide; retry shortly."""


class MarketoBulkBusy(MarketoRateLimited):
    """1016 too many imports, 1019 import running on the list, 1029 bulk quota: wait, resubmit."""


class MarketoQuotaExhausted(MarketoRateLimited):
    """607: the instance's daily quota is spent until `resumes_at` (midnight US Central).

    Keep the work; `retry_after` is the number of seconds until the reset."""

    resumes_at: datetime | None = None


class MarketoPermanent(PermanentError, MarketoError):
    """Retrying will not help: 605, 609, 610, 612, 613, 616, other codes, other HTTP 4xx."""

    def __init__(self, code: str, detail: str, **details: Unpack[Details]) -> None:
        PermanentError.__init__(self, self._describe(code, detail, details))


class MarketoAccessDenied(MarketoPermanent):
    """603 access denied, 614 invalid subscription: an administrator must act (alert)."""


class MarketoBodyTooLarge(MarketoPermanent):
    """HTTP 413 or a local refusal: the client splits first, so reaching this is a bug."""


class MarketoUriTooLong(MarketoPermanent):
    """HTTP 414: lookups switch to POST _method=GET before this can happen."""


class MarketoCredentialsError(ConfigurationError, MarketoError):
    """The identity service refused the client id / secret (HTTP 401)."""

    def __init__(self, detail: str, *, http_status: int | None = None) -> None:
        ConfigurationError.__init__(self, f"Marketo identity: {detail}")
        self._describe("HTTP 401", detail, Details(http_status=http_status))
