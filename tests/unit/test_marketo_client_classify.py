"""Classification in one place: every code of marketo.md's table, HTTP failures, no answers,
and envelopes (good and malformed). Pure: no network, no limiter."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from leadsync.errors import ConfigurationError, DependencyError, PermanentError, RateLimited
from leadsync.limiter.api import Outcome
from leadsync.marketo import (
    MarketoAccessDenied,
    MarketoBadResponse,
    MarketoBodyTooLarge,
    MarketoBulkBusy,
    MarketoClientConfig,
    MarketoConcurrencyLimited,
    MarketoCredentialsError,
    MarketoError,
    MarketoNoAnswer,
    MarketoPermanent,
    MarketoQuotaExhausted,
    MarketoRateLimited,
    MarketoRetryable,
    MarketoTokenRejected,
    MarketoUriTooLong,
)
from leadsync.marketo.classify import (
    CALL_ERRORS,
    envelope_of,
    error_for,
    error_for_status,
    error_for_transport,
    next_reset,
    parse_envelope,
)

CONFIG = MarketoClientConfig()
NOW = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
MARKETO_MD = Path("/work/shared/reference/marketo.md")

NC, DONE = Outcome.NOT_COUNTED, Outcome.DONE
# marketo.md's call-level table, restated independently of classify.py
EXPECTED: dict[str, tuple[type[MarketoError], Outcome, bool]] = {
    "502": (MarketoRetryable, DONE, True),
    **dict.fromkeys(["601", "602"], (MarketoTokenRejected, NC, True)),
    **dict.fromkeys(["603", "614"], (MarketoAccessDenied, DONE, False)),
    **dict.fromkeys(["604", "608", "611"], (MarketoRetryable, NC, True)),
    "605": (MarketoPermanent, NC, False),
    "606": (MarketoRateLimited, Outcome.RATE_LIMITED, True),
    "607": (MarketoQuotaExhausted, Outcome.QUOTA_EXHAUSTED, True),
    **dict.fromkeys(["609", "610", "612", "613", "616"], (MarketoPermanent, DONE, False)),
    "615": (MarketoConcurrencyLimited, Outcome.CONCURRENCY_LIMITED, True),
    **dict.fromkeys(["713", "719"], (MarketoRetryable, DONE, True)),
    **dict.fromkeys(["1016", "1019", "1029"], (MarketoBulkBusy, DONE, True)),
    # codes outside the table are permanent: 1003 "too many results", 1006, 1013, nonsense
    **dict.fromkeys(["1003", "1006", "1013", "9999"], (MarketoPermanent, DONE, False)),
}


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_every_code_has_its_class_outcome_and_details(code: str) -> None:
    cls, outcome, retryable = EXPECTED[code]
    exc = error_for(code, "why", request_id="a1#b2", config=CONFIG, now=NOW)
    assert type(exc) is cls
    assert (exc.code, exc.detail, exc.request_id, exc.outcome) == (code, "why", "a1#b2", outcome)
    assert getattr(exc, "retryable", None) is retryable
    assert f"Marketo {code}: why (requestId a1#b2)" == str(exc)


def test_the_table_covers_every_code_of_marketo_md() -> None:
    if not MARKETO_MD.exists():
        pytest.skip("shared reference not present")
    text = MARKETO_MD.read_text(encoding="utf-8")
    section = text.split("## Call-level errors", 1)[1].split("## ", 1)[0]
    codes = set(re.findall(r"^\| (\d{3})\*?(?:, (\d{3})\*?)? \|", section, flags=re.M))
    flat = {c for pair in codes for c in pair if c}
    assert len(flat) == 19
    assert flat <= set(CALL_ERRORS)
    assert flat <= set(EXPECTED)
    starred = set(re.findall(r"(\d{3})\*", section))
    assert {c for c, (_, o, _) in EXPECTED.items() if o is NC} == starred


def test_rate_hints_come_from_config() -> None:
    config = MarketoClientConfig(rate_window_s=7, concurrency_retry_s=0.5, bulk_busy_retry_s=9)
    assert error_for("606", "", request_id=None, config=config, now=NOW).retry_after == 7  # type: ignore[attr-defined]
    assert error_for("615", "", request_id=None, config=config, now=NOW).retry_after == 0.5  # type: ignore[attr-defined]
    assert error_for("1016", "", request_id=None, config=config, now=NOW).retry_after == 9  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("now", "resumes"),
    [
        # 23:59 CDT on 30 June → midnight CDT = 05:00 UTC
        (datetime(2026, 7, 1, 4, 59, tzinfo=UTC), datetime(2026, 7, 1, 5, 0, tzinfo=UTC)),
        # winter: CST, midnight = 06:00 UTC
        (datetime(2026, 1, 15, 12, 0, tzinfo=UTC), datetime(2026, 1, 16, 6, 0, tzinfo=UTC)),
        # the day daylight saving starts (8 March 2026): next midnight is already CDT
        (datetime(2026, 3, 8, 12, 0, tzinfo=UTC), datetime(2026, 3, 9, 5, 0, tzinfo=UTC)),
    ],
)
def test_607_waits_for_midnight_us_central(now: datetime, resumes: datetime) -> None:
    exc = error_for("607", "Daily quota reached", request_id="r", config=CONFIG, now=now)
    assert isinstance(exc, MarketoQuotaExhausted)
    assert exc.resumes_at == resumes == next_reset(now, "America/Chicago")
    assert exc.retry_after == (resumes - now).total_seconds()


def test_project_hierarchy() -> None:
    def make(code: str) -> MarketoError:
        return error_for(code, "", request_id=None, config=CONFIG, now=NOW)

    assert isinstance(make("606"), RateLimited)
    assert isinstance(make("607"), RateLimited)
    assert isinstance(make("615"), RateLimited)
    assert isinstance(make("1016"), RateLimited)
    assert isinstance(make("611"), DependencyError)
    assert isinstance(make("609"), PermanentError)
    assert isinstance(make("603"), PermanentError)
    assert isinstance(MarketoCredentialsError("refused"), ConfigurationError)
    for code in ("606", "611", "609"):
        assert getattr(make(code), "dependency", "marketo") == "marketo"


@pytest.mark.parametrize(
    ("status", "cls", "retryable"),
    [
        (413, MarketoBodyTooLarge, False),
        (414, MarketoUriTooLong, False),
        (429, MarketoRateLimited, True),
        *[(status, MarketoRetryable, True) for status in (408, 500, 502, 503, 504)],
        *[(status, MarketoPermanent, False) for status in (400, 403, 404)],
        (302, MarketoBadResponse, True),
    ],
)
def test_http_statuses(status: int, cls: type[MarketoError], retryable: bool) -> None:
    exc = error_for_status(status)
    assert type(exc) is cls
    assert exc.http_status == status
    assert exc.code == f"HTTP {status}"
    assert exc.outcome is (Outcome.RATE_LIMITED if status == 429 else DONE)
    assert getattr(exc, "retryable", None) is retryable


@pytest.mark.parametrize(
    "error",
    [
        requests.ConnectTimeout,
        requests.ReadTimeout,
        requests.ConnectionError,
        requests.exceptions.ChunkedEncodingError,
    ],
)
def test_no_answer_is_failed_and_keeps_urls_out(error: type[requests.RequestException]) -> None:
    raw = error("GET https://x.mktorest.com/rest/v1/leads.json?filterValues=jane@doe.com")
    exc = error_for_transport(raw)
    assert isinstance(exc, MarketoNoAnswer)
    assert exc.retryable
    assert exc.outcome is Outcome.FAILED
    assert "jane" not in str(exc)
    assert "mktorest" not in str(exc)


# -- envelopes ------------------------------------------------------------------------------
def response(
    body: bytes | Any, status: int = 200, ctype: str = "application/json"
) -> requests.Response:
    r = requests.Response()
    r.status_code = status
    r._content = body if isinstance(body, bytes) else json.dumps(body).encode()
    r.headers["Content-Type"] = ctype
    return r


def test_envelope_fields() -> None:
    env = parse_envelope(
        json.dumps(
            {
                "requestId": "e42b#14272d07d78",
                "success": True,
                "result": [{"id": 1}],
                "warnings": ["w"],
                "moreResult": True,
                "nextPageToken": "TOK",
            }
        ).encode()
    )
    assert env.request_id == "e42b#14272d07d78"
    assert env.success
    assert env.result == [{"id": 1}]
    assert env.warnings == ["w"]
    assert env.errors == []
    assert env.more_result
    assert env.next_page_token == "TOK"


def test_numeric_codes_and_null_lists_are_tolerated() -> None:
    env = parse_envelope(b'{"success": false, "result": null, "errors": [{"code": 606}]}')
    assert env.errors[0].code == "606"
    assert env.result == []
    assert env.warnings == []


def test_failed_envelope_raises_its_classified_error() -> None:
    body = {"requestId": "r1", "success": False, "errors": [{"code": "615", "message": "busy"}]}
    with pytest.raises(MarketoConcurrencyLimited) as info:
        envelope_of(response(body), config=CONFIG, now=NOW)
    assert info.value.request_id == "r1"
    assert info.value.detail == "busy"


@pytest.mark.parametrize(
    ("body", "ctype", "says"),
    [
        (b"<html><body>Bad Gateway</body></html>", "text/html", "not JSON (text/html"),
        (b'{"success": tru', "application/json", "not JSON"),
        (b"\xff\xfe\x00", "application/json", "not JSON"),
        (b"", "", "not JSON (no content type, 0 bytes)"),
        (b"[1, 2]", "application/json", "not a Marketo envelope"),
        (b'{"result": []}', "application/json", "not a Marketo envelope"),
        (
            b'{"success": true, "errors": [{"message": "no code"}]}',
            "application/json",
            "malformed envelope fields: errors.0.code",
        ),
        (b'{"success": true, "result": 7}', "application/json", "malformed envelope fields"),
        (b'{"success": false, "errors": []}', "application/json", "success is false"),
    ],
)
def test_malformed_bodies_are_clear_errors(body: bytes, ctype: str, says: str) -> None:
    with pytest.raises(MarketoBadResponse, match=re.escape(says)) as info:
        envelope_of(response(body, ctype=ctype), config=CONFIG, now=NOW)
    assert info.value.outcome is DONE
    assert info.value.retryable


def test_edge_pages_classify_by_status() -> None:
    with pytest.raises(MarketoRetryable) as info:
        envelope_of(response(b"<html>503</html>", 503, "text/html"), config=CONFIG, now=NOW)
    assert info.value.http_status == 503
    with pytest.raises(MarketoUriTooLong):
        envelope_of(response(b"<html>414</html>", 414, "text/html"), config=CONFIG, now=NOW)
    with pytest.raises(MarketoBodyTooLarge):
        envelope_of(response(b"<html>413</html>", 413, "text/html"), config=CONFIG, now=NOW)
