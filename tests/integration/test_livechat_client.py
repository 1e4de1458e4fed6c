from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from leadsync.errors import RateLimited, SourceError
from leadsync.sources.livechat import LiveChatClient
from local.ports import free_port
from local.simulators.livechat.data import GenerationParams
from local.simulators.livechat.server import DEFAULT_TOKEN, LiveChatSimulator

pytestmark = pytest.mark.integration
START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 1, 2, tzinfo=UTC)


@pytest.fixture(scope="module")
def simulator() -> Iterator[LiveChatSimulator]:
    with LiveChatSimulator(GenerationParams(chats=250, start=START, end=END, seed=7)) as sim:
        yield sim


@pytest.fixture
def sim(simulator: LiveChatSimulator) -> LiveChatSimulator:
    simulator.reset()
    return simulator


def _client(sim: LiveChatSimulator, token: str = DEFAULT_TOKEN) -> LiveChatClient:
    return LiveChatClient(sim.account_id, token, sim.base_url)


def test_every_entry_of_every_page(sim: LiveChatSimulator) -> None:
    expected = sum(len(chat["threads"]) for chat in sim.all_chats())
    entries = list(_client(sim).list_archives(START, END))
    assert len(entries) == expected > 100
    assert len({(e["id"], e["thread"]["id"]) for e in entries}) == expected
    bodies = [item.get("request") for item in sim.audit.items()]
    assert len(bodies) >= 3
    first, *rest = bodies
    assert isinstance(first, dict)
    assert first["limit"] == 100
    assert first["sort_order"] == "asc"
    assert first["filters"] == {
        "from": "2026-01-01T00:00:00.000000+00:00",
        "to": "2026-01-02T00:00:00.000000+00:00",
    }
    assert all(isinstance(b, dict) and set(b) == {"page_id"} for b in rest)


def test_rate_limit_is_retryable(sim: LiveChatSimulator) -> None:
    sim.set_faults(rate_limit_next=1)
    with pytest.raises(RateLimited) as caught:
        list(_client(sim).list_archives(START, END))
    assert caught.value.retryable


def test_server_errors_are_retryable(sim: LiveChatSimulator) -> None:
    sim.set_faults(internal_next=1)
    with pytest.raises(SourceError) as caught:
        list(_client(sim).list_archives(START, END))
    assert caught.value.retryable


def test_bad_credentials_are_permanent(sim: LiveChatSimulator) -> None:
    with pytest.raises(SourceError) as caught:
        list(_client(sim, token="wrong").list_archives(START, END))
    assert not caught.value.retryable
    assert "wrong" not in str(caught.value)


def test_unreachable_server_is_retryable() -> None:
    client = LiveChatClient("acc", "token", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(SourceError) as caught:
        list(client.list_archives(START, END))
    assert caught.value.retryable


def test_a_page_id_that_expires_mid_walk_reads_the_window_again(sim: LiveChatSimulator) -> None:
    whole = list(_client(sim).list_archives(START, END))
    entries = _client(sim).list_archives(START, END)
    head = [next(entries)]
    sim.expire_pages()
    rest = list(entries)
    keys = [(entry["id"], entry["thread"]["id"]) for entry in head + rest]
    assert keys == [(entry["id"], entry["thread"]["id"]) for entry in whole]
    assert len(set(keys)) == len(keys) > 100
