"""THE one place where Marketo's answers become results or classified exceptions.

marketo.md's table, as data: each call-level code has a kind (what the caller should do) and
the limiter `Outcome` the call is released with. Nothing else in the client interprets codes.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import requests
from pydantic import ValidationError

from leadsync.limiter.api import Outcome
from leadsync.marketo import errors
from leadsync.marketo.config import MarketoClientConfig
from leadsync.marketo.models import Envelope


class Kind(enum.Enum):
    TOKEN = "token"  # noqa: S105 - a kind, not a secret: new token, replay once
    RATE = "rate"  # wait for the window
    CONCURRENCY = "concurrency"  # retry shortly
    QUOTA = "quota"  # wait for the daily reset
    BULK_BUSY = "bulk_busy"  # wait for imports to drain
    RETRY = "retry"  # retry with backoff
    ALERT = "alert"  # permanent, an administrator must act
    PERMANENT = "permanent"  # permanent, usually a bug


@dataclass(frozen=True)
class Rule:
    kind: Kind
    outcome: Outcome


_NC = Outcome.NOT_COUNTED
_DONE = Outcome.DONE

CALL_ERRORS: dict[str, Rule] = {
    "502": Rule(Kind.RETRY, _DONE),
    "601": Rule(Kind.TOKEN, _NC),
    "602": Rule(Kind.TOKEN, _NC),
    "603": Rule(Kind.ALERT, _DONE),
    "604": Rule(Kind.RETRY, _NC),
    "605": Rule(Kind.PERMANENT, _NC),
    "606": Rule(Kind.RATE, Outcome.RATE_LIMITED),
    "607": Rule(Kind.QUOTA, Outcome.QUOTA_EXHAUSTED),
    "608": Rule(Kind.RETRY, _NC),
    "609": Rule(Kind.PERMANENT, _DONE),
    "610": Rule(Kind.PERMANENT, _DONE),
    "611": Rule(Kind.RETRY, _NC),
    "612": Rule(Kind.PERMANENT, _DONE),
    "613": Rule(Kind.PERMANENT, _DONE),
    "614": Rule(Kind.ALERT, _DONE),
    "615": Rule(Kind.CONCURRENCY, Outcome.CONCURRENCY_LIMITED),
    "616": Rule(Kind.PERMANENT, _DONE),
    "713": Rule(Kind.RETRY, _DONE),
    "719": Rule(Kind.RETRY, _DONE),
    # bulk import: the queue or the list is busy, or the bulk quota is spent; wait, resubmit
    "1016": Rule(Kind.BULK_BUSY, _DONE),
    "1019": Rule(Kind.BULK_BUSY, _DONE),
    "1029": Rule(Kind.BULK_BUSY, _DONE),
}
# Any other call-level code (1003 "too many results", 1006 unknown field, 1013 no such list..)
OTHER_CODE = Rule(Kind.PERMANENT, _DONE)

TOKEN_CODES = frozenset(code for code, rule in CALL_ERRORS.items() if rule.kind is Kind.TOKEN)


def rule_for(code: str) -> Rule:
    return CALL_ERRORS.get(code, OTHER_CODE)


def next_reset(now: datetime, zone: str) -> datetime:
    """Marketo's quota resets at midnight US Central (DST included)."""
    tz = ZoneInfo(zone)
    tomorrow = now.astimezone(tz).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(0), tzinfo=tz)


def error_for(
    code: str,
    detail: str,
    *,
    request_id: str | None,
    config: MarketoClientConfig,
    now: datetime,
    http_status: int | None = 200,
) -> errors.MarketoError:
    """The exception for a call-level error code, carrying the outcome to release."""
    rule = rule_for(code)
    kw = errors.Details(request_id=request_id, outcome=rule.outcome, http_status=http_status)
    match rule.kind:
        case Kind.TOKEN:
            return errors.MarketoTokenRejected(code, detail, **kw)
        case Kind.RATE:
            return errors.MarketoRateLimited(code, detail, retry_after=config.rate_window_s, **kw)
        case Kind.CONCURRENCY:
            return errors.MarketoConcurrencyLimited(
                code, detail, retry_after=config.concurrency_retry_s, **kw
            )
        case Kind.BULK_BUSY:
            return errors.MarketoBulkBusy(code, detail, retry_after=config.bulk_busy_retry_s, **kw)
        case Kind.QUOTA:
            resumes_at = next_reset(now, config.quota_timezone)
            wait = max(0.0, (resumes_at - now).total_seconds())
            exc = errors.MarketoQuotaExhausted(code, detail, retry_after=wait, **kw)
            exc.resumes_at = resumes_at
            return exc
        case Kind.RETRY:
            return errors.MarketoRetryable(code, detail, **kw)
        case Kind.ALERT:
            return errors.MarketoAccessDenied(code, detail, **kw)
        case Kind.PERMANENT:
            return errors.MarketoPermanent(code, detail, **kw)


def error_for_status(status: int) -> errors.MarketoError:
    """An HTTP failure that carried no Marketo envelope (an edge page, usually)."""
    code = f"HTTP {status}"
    if status == 413:
        return errors.MarketoBodyTooLarge(code, "request body over the limit", http_status=status)
    if status == 414:
        return errors.MarketoUriTooLong(code, "request URI over the limit", http_status=status)
    if status == 429:  # not Marketo's own answer, but an edge throttling is a rate limit
        return errors.MarketoRateLimited(code, "too many requests", http_status=status)
    if status == 408 or status >= 500:
        return errors.MarketoRetryable(code, "server or edge failure", http_status=status)
    if 400 <= status < 500:
        return errors.MarketoPermanent(code, "request refused", http_status=status)
    return errors.MarketoBadResponse(code, "unexpected HTTP status", http_status=status)


def error_for_transport(exc: requests.RequestException) -> errors.MarketoError:
    """No answer. The message names the failure, never the URL (it can hold emails or secrets)."""
    what = type(exc).__name__
    if isinstance(exc, requests.Timeout):
        return errors.MarketoNoAnswer(
            "local:timeout", f"no answer in time ({what})", outcome=Outcome.FAILED
        )
    return errors.MarketoNoAnswer("local:connection", f"no answer ({what})", outcome=Outcome.FAILED)


def envelope_of(
    response: requests.Response, *, config: MarketoClientConfig, now: datetime
) -> Envelope:
    """The successful envelope of an answer, or the classified exception for it."""
    status = response.status_code
    if status in (413, 414):
        raise error_for_status(status)
    try:
        envelope = parse_envelope(response.content, response.headers.get("Content-Type", ""))
    except errors.MarketoBadResponse:
        if status != 200:
            raise error_for_status(status) from None
        raise
    if not envelope.success:
        if not envelope.errors:
            raise errors.MarketoBadResponse(
                "local:bad-envelope",
                "success is false but no errors",
                request_id=envelope.request_id,
                http_status=status,
            )
        first = envelope.errors[0]
        raise error_for(
            first.code,
            first.message,
            request_id=envelope.request_id,
            config=config,
            now=now,
            http_status=status,
        )
    if status != 200:
        raise error_for_status(status)
    return envelope


def parse_envelope(body: bytes, content_type: str = "") -> Envelope:
    """A Marketo envelope, or MarketoBadResponse saying clearly what arrived instead."""
    kind = content_type.split(";")[0].strip() or "no content type"
    try:
        raw = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise errors.MarketoBadResponse(
            "local:not-json", f"answer is not JSON ({kind}, {len(body)} bytes)"
        ) from None
    if not isinstance(raw, dict) or "success" not in raw:
        raise errors.MarketoBadResponse(
            "local:bad-envelope", f"JSON answer is not a Marketo envelope ({len(body)} bytes)"
        )
    try:
        return Envelope.model_validate(raw)
    except ValidationError as exc:
        where = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
        raise errors.MarketoBadResponse(
            "local:bad-envelope",
            f"malformed envelope fields: {', '.join(where)}",
            request_id=raw.get("requestId") if isinstance(raw.get("requestId"), str) else None,
        ) from None
