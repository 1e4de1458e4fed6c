"""Retries: which failures, how long, bounded by the invocation's time; the breaker's part."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from leadsync.errors import DependencyError, RateLimited, SourceError
from leadsync.marketo.errors import (
    MarketoNoAnswer,
    MarketoPermanent,
    MarketoRateLimited,
    MarketoRetryable,
)
from leadsync.marketo.guard import (
    RETRY_DELAYS_S,
    CircuitOpen,
    GaveUp,
    Guard,
    RetryPolicy,
    is_retryable,
)
from leadsync.sources.livechat import PageExpired, retry_page

NOW = datetime(2026, 1, 15, 13, tzinfo=UTC)


class Recorder:
    def __init__(self, closed: bool = True) -> None:
        self.events: list[str] = []
        self.closed = closed

    def before_call(self) -> None:
        self.events.append("check")
        if not self.closed:
            raise CircuitOpen("marketo", 42)

    def succeeded(self) -> None:
        self.events.append("ok")

    def failed(self) -> None:
        self.events.append("fail")


def _failing(*errors: BaseException) -> tuple[list[int], object]:
    calls: list[int] = []
    pending = list(errors)

    def call() -> str:
        calls.append(1)
        if pending:
            raise pending.pop(0)
        return "done"

    return calls, call


def _guard(breaker: Recorder, slept: list[float], remaining: float = 1e9) -> Guard:
    return Guard(
        breaker,
        RetryPolicy(rng=random.Random(1)),
        remaining_s=lambda: remaining,
        sleep=slept.append,
        now=lambda: NOW,
    )


def test_transient_failures_are_retried_after_about_1_4_and_16_seconds() -> None:
    slept: list[float] = []
    breaker = Recorder()
    calls, call = _failing(
        MarketoRetryable("HTTP 503", "down"),
        MarketoNoAnswer("local:timeout", "no answer"),
        MarketoRetryable("604", "timed out"),
    )
    assert _guard(breaker, slept).call("createOnly 3 records", call) == "done"  # type: ignore[arg-type]
    assert len(calls) == 4
    assert len(slept) == 3
    for waited, base in zip(slept, RETRY_DELAYS_S, strict=True):
        assert base * 0.75 <= waited <= base * 1.25  # jittered around 1, 4, 16 s
    assert breaker.events == ["check", "fail", "check", "fail", "check", "fail", "check", "ok"]


def test_after_the_third_retry_the_failure_goes_to_the_caller_with_its_request() -> None:
    slept: list[float] = []
    errors = [MarketoRetryable("HTTP 500", f"down {n}") for n in range(4)]
    calls, call = _failing(*errors)
    with pytest.raises(GaveUp) as caught:
        _guard(Recorder(), slept).call("updateOnly 2 records by id", call)  # type: ignore[arg-type]
    assert len(calls) == 4
    assert (caught.value.code, caught.value.detail) == ("HTTP 500", "down 3")
    assert caught.value.request == "updateOnly 2 records by id"
    assert caught.value.tries == 4
    assert caught.value.retryable


def test_no_retry_is_started_that_the_invocation_has_no_time_for() -> None:
    slept: list[float] = []
    calls, call = _failing(MarketoRetryable("HTTP 502", "edge"), MarketoRetryable("502", "x"))
    # 8 s left: the 1 s retry fits (with room for the call), the 4 s one does not
    left = iter([8.0, 3.0])
    guard = Guard(
        Recorder(),
        RetryPolicy(rng=random.Random(1)),
        remaining_s=lambda: next(left),
        sleep=slept.append,
        now=lambda: NOW,
    )
    with pytest.raises(GaveUp) as caught:
        guard.call("lookup 10 e-mails", call)  # type: ignore[arg-type]
    assert len(calls) == 2
    assert len(slept) == 1
    assert caught.value.tries == 2


@pytest.mark.parametrize(
    "error",
    [
        MarketoPermanent("1003", "refused"),
        MarketoRateLimited("606", "rate"),
        DependencyError("bug", dependency="marketo", retryable=False),
        ValueError("a bug of ours"),
    ],
)
def test_refusals_rate_limits_and_bugs_are_not_retried(error: BaseException) -> None:
    slept: list[float] = []
    breaker = Recorder()
    calls, call = _failing(error)
    with pytest.raises(type(error)):
        _guard(breaker, slept).call("createOnly 1 records", call)  # type: ignore[arg-type]
    assert (len(calls), slept) == (1, [])
    # the destination answered: that is no failure of the destination
    assert breaker.events == ["check", "ok"]


def test_an_open_breaker_stops_the_call_before_it_is_made() -> None:
    calls, call = _failing()
    with pytest.raises(CircuitOpen) as caught:
        _guard(Recorder(closed=False), []).call("lookup 1 e-mails", call)  # type: ignore[arg-type]
    assert calls == []
    assert caught.value.retry_after_seconds == 42


def test_retryable_classes() -> None:
    assert is_retryable(MarketoRetryable("713", "transient"))
    assert is_retryable(MarketoNoAnswer("local:connection", "refused"))
    assert not is_retryable(MarketoRateLimited("606", "rate"))
    assert not is_retryable(MarketoPermanent("610", "not found"))
    assert not is_retryable(RuntimeError("x"))


def test_a_large_lookup_retries_only_the_call_that_failed() -> None:
    from leadsync.marketo.guard import GuardedWriter
    from tests.support.fakes import FakeMarketo

    marketo = FakeMarketo()
    marketo.add(email="e650@example.com")
    marketo.fail_on_call[2] = MarketoRetryable("HTTP 503", "down")
    slept: list[float] = []
    guarded = GuardedWriter(marketo, _guard(Recorder(), slept), lookup_size=300)
    emails = [f"e{n}@example.com" for n in range(651)]
    found = guarded.lookup_by_email(emails, ["email"])
    assert marketo.calls == ["lookup"] * 4  # 300, 300 (failed, then again), 51
    assert len(slept) == 1
    assert set(found) == set(emails)
    assert [lead.id for lead in found["e650@example.com"]] == [marketo.next_id]


def test_a_source_page_read_waits_out_a_rate_limit_at_least_as_long_as_it_asks() -> None:
    slept: list[float] = []
    calls, call = _failing(
        RateLimited("429", dependency="livechat", retry_after=30.0),
        RateLimited("429", dependency="livechat"),
    )
    guard = Guard(
        None,
        RetryPolicy(rng=random.Random(1)),
        sleep=slept.append,
        now=lambda: NOW,
        retryable=retry_page,
    )
    assert guard.call("livechat list_archives", call) == "done"  # type: ignore[arg-type]
    assert len(calls) == 3
    assert slept[0] == 30.0  # the Retry-After, longer than the first wait
    assert 4 * 0.75 <= slept[1] <= 4 * 1.25  # none given: the policy's second wait


def test_an_expired_page_id_is_not_retried_as_it_is() -> None:
    assert not retry_page(PageExpired("page_id is invalid or expired"))
    assert retry_page(SourceError("HTTP 502", retryable=True))
    assert not retry_page(SourceError("HTTP 401", retryable=False))
