"""leadsync's LiveChat client against every fault the simulator injects: each one reaches the
caller as the project's own exception, never as a raw HTTP or socket error."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from leadsync.errors import RateLimited, SourceError
from leadsync.sources.livechat import LiveChatClient
from local.simulators.livechat import DEFAULT_TOKEN, GenerationParams, LiveChatSimulator

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


def test_a_page_id_expiring_mid_walk_is_a_source_error(sim: LiveChatSimulator) -> None:
    sim.set_faults(page_expire_probability=1.0)
    with pytest.raises(SourceError, match="validation") as caught:
        read_all(sim)
    assert not isinstance(caught.value, RateLimited)
    assert sim.fault_counts()["page_expired"] == 1


def test_expiring_every_page_id_mid_walk_is_a_source_error(sim: LiveChatSimulator) -> None:
    entries = client(sim).list_archives(START, END)
    next(entries)  # the first page is read and the walk holds a page id
    assert sim.expire_pages() == 1
    with pytest.raises(SourceError, match="page_id is invalid or expired"):
        list(entries)
