"""The LiveChat simulator's probabilistic faults, expiring page ids and fault counts, over HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from local.simulators.livechat import FaultConfig, GenerationParams, LiveChatSimulator

PARAMS = GenerationParams(seed=5, chats=30)
KINDS = {"rate_limit", "internal", "bad_gateway", "timeout", "slow", "delay", "page_expired"}


@pytest.fixture
def sim() -> Iterator[LiveChatSimulator]:
    with LiveChatSimulator(PARAMS) as fresh:
        yield fresh


def archives(sim: LiveChatSimulator, body: Any = None, timeout: float = 5) -> requests.Response:
    return requests.post(
        f"{sim.base_url}/v3.6/agent/action/list_archives",
        json={} if body is None else body,
        headers={"Authorization": sim.authorization},
        timeout=timeout,
    )


def list_webhook_names(sim: LiveChatSimulator) -> requests.Response:
    """A Configuration API call the default (chats-only) token may make."""
    return requests.post(
        f"{sim.configuration_url}/list_webhook_names",
        json={"version": "3.6"},
        headers={"Authorization": sim.authorization},
        timeout=5,
    )


def statuses(sim: LiveChatSimulator, count: int) -> list[int]:
    return [archives(sim, {"limit": 1}).status_code for _ in range(count)]


def control(sim: LiveChatSimulator, path: str, body: Any = None) -> requests.Response:
    return requests.post(f"{sim.base_url}/_sim/{path}", json=body or {}, timeout=5)


def test_no_faults_by_default_and_every_count_is_listed(sim: LiveChatSimulator) -> None:
    assert statuses(sim, 5) == [200] * 5
    state = requests.get(f"{sim.base_url}/_sim/faults", timeout=5).json()
    assert state["counts"] == dict.fromkeys(KINDS, 0)
    assert state["requests"] == 5
    assert state["faults"]["seed"] == 0
    assert sim.fault_counts() == state["counts"]


def test_rate_limit_answers_429_without_retry_after(sim: LiveChatSimulator) -> None:
    assert control(sim, "faults", {"rate_limit_probability": 1}).status_code == 200
    answer = archives(sim)
    assert answer.status_code == 429
    assert answer.json()["error"]["type"] == "too_many_requests"
    # LiveChat documents no Retry-After: a client must not be taught to expect one.
    assert "Retry-After" not in answer.headers
    assert sim.fault_counts()["rate_limit"] == 1


def test_internal_answers_500_in_the_envelope(sim: LiveChatSimulator) -> None:
    sim.set_faults(internal_probability=1.0)
    answer = archives(sim)
    assert answer.status_code == 500
    assert answer.json() == {"error": {"type": "internal", "message": "Internal server error"}}
    assert sim.fault_counts()["internal"] == 1


def test_bad_gateway_answers_an_html_page(sim: LiveChatSimulator) -> None:
    sim.set_faults(bad_gateway_probability=1.0)
    answer = archives(sim)
    assert answer.status_code == 502
    assert answer.headers["Content-Type"].startswith("text/html")
    assert "<h1>502 Bad Gateway</h1>" in answer.text
    with pytest.raises(ValueError, match=r"Expecting value"):
        answer.json()
    assert sim.fault_counts()["bad_gateway"] == 1
    last = sim.audit.items()[-1]
    assert (last["status"], last["error"], last["faults"]) == (502, "bad_gateway", ["bad_gateway"])


def test_slow_answers_come_late_but_whole(sim: LiveChatSimulator) -> None:
    sim.set_faults(slow_probability=1.0, slow_min_seconds=0.3, slow_max_seconds=0.4)
    started = time.monotonic()
    answer = archives(sim, {"limit": 3})
    assert time.monotonic() - started >= 0.3
    assert answer.status_code == 200
    assert len(answer.json()["chats"]) == 3
    assert sim.fault_counts()["slow"] == 1


def test_a_timed_out_request_is_held_then_closed_without_an_answer(
    sim: LiveChatSimulator,
) -> None:
    sim.set_faults(timeout_probability=1.0, timeout_hold_seconds=0.4)
    started = time.monotonic()
    with pytest.raises(requests.ConnectionError):
        archives(sim, timeout=5)  # a patient client meets a closed connection
    assert time.monotonic() - started >= 0.4
    sim.set_faults(timeout_hold_seconds=2.0)
    with pytest.raises(requests.ReadTimeout):
        archives(sim, timeout=0.3)  # an impatient one gives up first
    assert sim.fault_counts()["timeout"] == 2
    first = sim.audit.items()[0]
    assert (first["status"], first["error"], first["faults"]) == (None, "dropped", ["timeout"])


def test_stopping_releases_held_requests() -> None:
    sim = LiveChatSimulator(PARAMS, faults=FaultConfig(timeout_probability=1.0)).start()
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            archives(sim, timeout=60)
        except requests.RequestException as exc:
            outcome.append(exc)

    waiting = threading.Thread(target=call)
    waiting.start()
    while sim.fault_counts()["timeout"] == 0:
        time.sleep(0.01)
    sim.stop()
    waiting.join(timeout=5)
    assert not waiting.is_alive()
    assert outcome


def test_a_seed_replays_the_same_faults(sim: LiveChatSimulator) -> None:
    settings = {"seed": 42, "rate_limit_probability": 0.3, "internal_probability": 0.2}
    sim.set_faults(**settings)
    first = statuses(sim, 40)
    assert {429, 500, 200} <= set(first)
    with LiveChatSimulator(PARAMS, faults=FaultConfig.from_mapping(settings)) as twin:
        assert statuses(twin, 40) == first
    sim.set_faults(seed=42)  # setting the seed again restarts its sequence
    assert statuses(sim, 40) == first
    sim.set_faults(seed=43)
    assert statuses(sim, 40) != first


def test_one_setting_never_shifts_another(sim: LiveChatSimulator) -> None:
    sim.set_faults(seed=7, rate_limit_probability=0.4)
    alone = statuses(sim, 30)
    sim.set_faults(seed=7, slow_probability=0.5, slow_min_seconds=0, slow_max_seconds=0.001)
    assert statuses(sim, 30) == alone


def test_configuration_calls_escape_the_probabilistic_faults_unless_asked(
    sim: LiveChatSimulator,
) -> None:
    sim.set_faults(internal_probability=1.0)
    assert list_webhook_names(sim).status_code == 200
    sim.set_faults(include_configuration_api=True)
    assert list_webhook_names(sim).status_code == 500
    assert sim.fault_counts()["internal"] == 1


def test_a_page_id_can_expire_mid_walk(sim: LiveChatSimulator) -> None:
    sim.set_faults(page_expire_probability=1.0)
    first = archives(sim, {"limit": 5})
    assert first.status_code == 200  # a first page carries no page id to expire
    page_id = first.json()["next_page_id"]
    for _ in range(2):  # expired for good: asking again does not bring it back
        answer = archives(sim, {"page_id": page_id})
        assert answer.status_code == 400
        assert answer.json()["error"] == {
            "type": "validation",
            "message": "page_id is invalid or expired",
        }
    assert sim.fault_counts()["page_expired"] == 2
    assert archives(sim, {"page_id": "never-issued"}).status_code == 400
    assert sim.fault_counts()["page_expired"] == 2  # an unknown id is not an injected fault


def test_expire_every_page_id_now(sim: LiveChatSimulator) -> None:
    first = archives(sim, {"limit": 5}).json()
    second = archives(sim, {"page_id": first["next_page_id"]}).json()
    expired = control(sim, "pages/expire")
    assert expired.status_code == 200
    assert expired.json() == {"expired": 3}  # next of the first; next and previous of the second
    for page_id in (first["next_page_id"], second["next_page_id"]):
        answer = archives(sim, {"page_id": page_id})
        assert (answer.status_code, answer.json()["error"]["type"]) == (400, "validation")
    fresh = archives(sim, {"limit": 5}).json()
    assert archives(sim, {"page_id": fresh["next_page_id"]}).status_code == 200
    assert sim.expire_pages() == 3  # the fresh walk's next; the page after it, next and previous
    assert sim.fault_counts()["page_expired"] == 2


def test_faults_switch_at_runtime_and_reset_clears_the_counts(sim: LiveChatSimulator) -> None:
    control(sim, "faults", {"internal_probability": 1})
    assert statuses(sim, 2) == [500, 500]
    switched = control(sim, "faults", {"reset": True, "rate_limit_probability": 1})
    assert switched.json()["faults"]["internal_probability"] == 0
    assert statuses(sim, 1) == [429]
    counts = requests.get(f"{sim.base_url}/_sim/faults", timeout=5).json()["counts"]
    assert (counts["internal"], counts["rate_limit"]) == (2, 1)
    control(sim, "reset")
    assert sim.fault_counts() == dict.fromkeys(KINDS, 0)


def test_delay_and_counted_faults_are_counted_too(sim: LiveChatSimulator) -> None:
    sim.set_faults(internal_next=1, delay_seconds=0.01)
    assert statuses(sim, 2) == [500, 200]
    assert list_webhook_names(sim).status_code == 200
    counts = sim.fault_counts()
    assert (counts["internal"], counts["delay"]) == (1, 3)


@pytest.mark.parametrize(
    "settings",
    [
        {"rate_limit_probability": 1.5},
        {"timeout_probability": -0.1},
        {"slow_min_seconds": 3, "slow_max_seconds": 2},
        {"include_configuration_api": "yes"},
        {"seed": 1.5},
        {"page_expire_probability": True},
    ],
)
def test_bad_settings_are_refused_and_change_nothing(
    sim: LiveChatSimulator, settings: dict[str, Any]
) -> None:
    before = sim.faults.config.to_dict()
    answer = control(sim, "faults", settings)
    assert answer.status_code == 400
    assert answer.json()["error"]["type"] == "validation"
    assert sim.faults.config.to_dict() == before
    with pytest.raises(ValueError, match=next(iter(settings))):
        FaultConfig.from_mapping(settings)
