"""leadsync's LiveChat client against every fault the simulator injects: each one reaches the
caller as the project's own exception, never as a raw HTTP or socket error."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from leadsync.errors import RateLimited, SourceError
from leadsync.marketo.guard import GaveUp, RetryPolicy
from leadsync.sources.livechat import MAX_WINDOW_RESTARTS, LiveChatClient, PageExpired, page_guard
from local.simulators.livechat import DEFAULT_TOKEN, GenerationParams, LiveChatSimulator

pytestmark = pytest.mark.integration
START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 2, 1, tzinfo=UTC)
PARAMS = GenerationParams(seed=11, chats=20, start=START, end=END)


@pytest.fixture(scope="module")
def simulator() -> Iterator[LiveChatSimulator]:
    with LiveChatSimulator(PARAMS) as sim:
        yield sim


@pytest.fixture
def sim(simulator: LiveChatSimulator) -> LiveChatSimulator:
    simulator.reset()
    return simulator


def client(sim: LiveChatSimulator, read_timeout: float = 5.0) -> LiveChatClient:
    return LiveChatClient(
        sim.account_id, DEFAULT_TOKEN, sim.base_url, timeout=(2.0, read_timeout), page_size=5
    )


def read_all(sim: LiveChatSimulator, read_timeout: float = 5.0) -> list[dict[str, Any]]:
    return list(client(sim, read_timeout).list_archives(START, END))


def test_rate_limit_is_rate_limited_without_a_retry_after(sim: LiveChatSimulator) -> None:
    sim.set_faults(rate_limit_probability=1.0)
    with pytest.raises(RateLimited) as caught:
        read_all(sim)
    assert caught.value.retryable
    assert caught.value.retry_after is None


@pytest.mark.parametrize("setting", ["internal_probability", "bad_gateway_probability"])
def test_server_side_failures_are_retryable_source_errors(
    sim: LiveChatSimulator, setting: str
) -> None:
    sim.set_faults(**{setting: 1.0})
    with pytest.raises(SourceError) as caught:
        read_all(sim)
    assert caught.value.retryable
    assert "HTTP 50" in str(caught.value)


def test_a_read_timeout_is_a_retryable_source_error(sim: LiveChatSimulator) -> None:
    sim.set_faults(timeout_probability=1.0, timeout_hold_seconds=2.0)
    with pytest.raises(SourceError, match="timed out") as caught:
        read_all(sim, read_timeout=0.3)
    assert caught.value.retryable


def test_a_connection_closed_without_an_answer_is_a_retryable_source_error(
    sim: LiveChatSimulator,
) -> None:
    sim.set_faults(timeout_probability=1.0, timeout_hold_seconds=0.1)
    with pytest.raises(SourceError, match="ConnectionError") as caught:
        read_all(sim)
    assert caught.value.retryable


def test_slow_pages_still_bring_every_entry(sim: LiveChatSimulator) -> None:
    expected = sum(len(chat["threads"]) for chat in sim.all_chats())
    sim.set_faults(slow_probability=0.5, slow_min_seconds=0.01, slow_max_seconds=0.05)
    assert len(read_all(sim)) == expected
    assert sim.fault_counts()["slow"] > 0


def entry_keys(entries: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(entry["id"], entry["thread"]["id"]) for entry in entries]


def guarded(sim: LiveChatSimulator) -> LiveChatClient:
    """The client as the fetch builds it, with waits of a millisecond."""
    policy = RetryPolicy(delays_s=(0.001, 0.001, 0.001), jitter=0.0)
    return LiveChatClient(
        sim.account_id,
        DEFAULT_TOKEN,
        sim.base_url,
        timeout=(2.0, 5.0),
        page_size=5,
        guard=page_guard(lambda: float("inf"), policy),
    )


def test_a_page_id_expiring_mid_walk_reads_the_window_again_without_repeats(
    sim: LiveChatSimulator,
) -> None:
    whole = read_all(sim)
    entries = client(sim).list_archives(START, END)
    head = [next(entries)]  # the first page is read and the walk holds a page id
    assert sim.expire_pages() >= 1
    rest = list(entries)
    assert entry_keys(head + rest) == entry_keys(whole)
    assert sim.fault_counts()["page_expired"] == 1


def test_page_ids_that_keep_expiring_end_the_read_with_a_retryable_error(
    sim: LiveChatSimulator,
) -> None:
    sim.set_faults(page_expire_probability=1.0)
    with pytest.raises(PageExpired, match="validation") as caught:
        read_all(sim)
    assert caught.value.retryable
    assert sim.fault_counts()["page_expired"] == MAX_WINDOW_RESTARTS + 1


def test_the_fetch_waits_out_rate_limits_and_server_errors_page_by_page(
    sim: LiveChatSimulator,
) -> None:
    whole = read_all(sim)
    sim.set_faults(rate_limit_every=3, internal_every=5)
    assert entry_keys(list(guarded(sim).list_archives(START, END))) == entry_keys(whole)
    counts = sim.fault_counts()
    assert counts["rate_limit"] > 0
    assert counts["internal"] > 0


def test_a_page_that_keeps_failing_gives_up_after_the_last_wait(sim: LiveChatSimulator) -> None:
    sim.set_faults(internal_probability=1.0)
    with pytest.raises(GaveUp, match="gave up after 4 tries") as caught:
        list(guarded(sim).list_archives(START, END))
    assert caught.value.retryable
    assert isinstance(caught.value.cause, SourceError)


def test_a_refused_token_is_not_retried(sim: LiveChatSimulator) -> None:
    refused = LiveChatClient(
        sim.account_id,
        "wrong-token",
        sim.base_url,
        guard=page_guard(lambda: float("inf"), RetryPolicy(delays_s=(60.0,))),
    )
    with pytest.raises(SourceError) as caught:
        list(refused.list_archives(START, END))
    assert not caught.value.retryable
