from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from leadsync.errors import DependencyError, SourceError
from leadsync.sync.failures import ErrorKind
from leadsync.sync.fetch.batching import BatchLimits
from leadsync.sync.fetch.run import FetchSettings, fetch_window
from tests.support.chats import customer, entry, thread
from tests.support.fakes import FakeMarketo, FakeQueue, FakeSource, FakeState
from tests.support.fetch_run import fetch_once

NOW = datetime(2026, 1, 15, 13, 0, tzinfo=UTC)
SETTINGS = FetchSettings(limits=BatchLimits(2, 200_000), overlap=timedelta(minutes=10))


def _entries() -> list[object]:
    return [
        entry("C1", user=customer(email="a@example.com")),
        entry("C2", user=customer(email="b@example.com")),
        entry(
            "C3", user=customer(email="a@example.com"), thread_=thread("T3", "2026-01-15T12:30:00Z")
        ),
        entry("C4", user=customer(email="c@example.com")),
        entry("C5", user=customer(email=None)),
        "garbage",
    ]


def test_window_first_run_then_from_the_mark_minus_overlap() -> None:
    assert fetch_window(None, NOW, SETTINGS) == (NOW - timedelta(hours=1), NOW)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    configured = FetchSettings(
        limits=SETTINGS.limits, first_start=start, max_window=timedelta(hours=6)
    )
    assert fetch_window(None, NOW, configured) == (start, start + timedelta(hours=6))
    mark = NOW - timedelta(hours=1)
    assert fetch_window(mark, NOW, SETTINGS) == (mark - timedelta(minutes=10), NOW)


def test_run_queues_every_visitor_stores_rejections_then_moves_the_mark() -> None:
    mark = NOW - timedelta(hours=1)
    source, state, queue = FakeSource(_entries()), FakeState(mark=mark), FakeQueue()
    summary = fetch_once(source, state, queue, settings=SETTINGS, at=NOW)

    assert source.windows == [(mark - timedelta(minutes=10), NOW)]
    assert (summary.entries, summary.chats, summary.visitors, summary.rejected) == (6, 5, 3, 2)
    assert (summary.messages, summary.records, summary.oversized) == (2, 3, 0)
    assert summary.mark_advanced
    assert state.mark == NOW
    assert state.log == ["errors", "mark"]
    emails = [r.email for b in queue.batches for r in b.records]
    assert emails == ["a@example.com", "b@example.com", "c@example.com"]
    assert queue.batches[0].records[0].chat_ids == ["C1", "C3"]
    assert {e.kind for e in state.errors} == {ErrorKind.REJECTED}
    assert sorted(e.reason for e in state.errors) == ["malformed_chat", "missing_email"]
    assert all(e.correlation_id == summary.run_id for e in state.errors)


@pytest.mark.parametrize("failure", ["source", "queue"])
def test_the_mark_stays_when_anything_fails(failure: str) -> None:
    mark = NOW - timedelta(hours=1)
    error = (
        SourceError("down", retryable=True)
        if failure == "source"
        else DependencyError("sqs down", dependency="sqs", retryable=True)
    )
    source = FakeSource(_entries(), error=error if failure == "source" else None)
    queue = FakeQueue(error=error if failure == "queue" else None)
    state = FakeState(mark=mark)
    with pytest.raises(type(error)):
        fetch_once(source, state, queue, settings=SETTINGS, at=NOW)
    assert state.mark == mark
    assert "mark" not in state.log
    # the admin hears of it: the failed run is in the error store for the digest
    [failed] = [e for e in state.errors if e.kind is ErrorKind.RUN_FAILED]
    assert failed.reason == "fetch_failed"
    assert failed.code == type(error).__name__
    assert str(error) in failed.detail
    assert failed.record is not None
    window = {k: datetime.fromisoformat(v) for k, v in failed.record.items()}
    assert window == {"since": mark - timedelta(minutes=10), "until": NOW}  # the overlap


def test_a_lookup_that_keeps_failing_is_reported_with_its_request() -> None:
    from leadsync.marketo.errors import MarketoRetryable
    from leadsync.marketo.guard import GaveUp, Guard, GuardedWriter, RetryPolicy

    marketo = FakeMarketo()
    marketo.fail_on_call[1] = MarketoRetryable("HTTP 503", "down")
    state = FakeState()
    guarded = GuardedWriter(marketo, Guard(policy=RetryPolicy(delays_s=())))
    source = FakeSource(_entries())
    with pytest.raises(GaveUp):
        fetch_once(source, state, FakeQueue(), settings=SETTINGS, at=NOW, destination=guarded)
    [failed] = state.errors
    assert (failed.kind, failed.code) == (ErrorKind.RUN_FAILED, "HTTP 503")
    assert failed.request == "lookup 3 e-mails"


def test_a_newer_mark_is_not_moved_back() -> None:
    state = FakeState(mark=NOW + timedelta(minutes=5))
    source = FakeSource(_entries())
    summary = fetch_once(source, state, FakeQueue(), settings=SETTINGS, at=NOW)
    assert source.windows == []
    assert summary.messages == 0
    assert state.mark == NOW + timedelta(minutes=5)


def test_oversized_visitors_go_to_the_error_store() -> None:
    tiny = FetchSettings(limits=BatchLimits(10, 700))
    state, queue = FakeState(), FakeQueue()
    big = customer(
        email="big@example.com",
        name="N" * 200,
        referrer="https://x.example.com/" + "r" * 240,
        pages=["https://x.example.com/" + "p" * 240],
    )
    summary = fetch_once(FakeSource([entry("C1", user=big)]), state, queue, settings=tiny, at=NOW)
    assert summary.oversized == 1
    assert summary.messages == 0
    [error] = state.errors
    assert error.kind is ErrorKind.UNDELIVERABLE
    assert error.record is not None
    assert error.record["email"] == "big@example.com"
    assert state.mark == NOW
