"""The shared circuit breaker against moto in server mode, on a table built from template.yaml.

Several breakers on one table stand for several function copies; the clocks are moved, never
waited for."""

from __future__ import annotations

import pytest

from leadsync.adapters.breaker import CLOSED, HALF_OPEN, OPEN, DynamoDBBreaker
from leadsync.marketo.guard import CircuitOpen

pytestmark = pytest.mark.integration


class Clocks:
    def __init__(self) -> None:
        self.wall_ms = 1_800_000_000_000
        self.mono = 1000.0

    def advance(self, seconds: float) -> None:
        self.wall_ms += int(seconds * 1000)
        self.mono += seconds


def _copy(table: str, clocks: Clocks, **options: float) -> DynamoDBBreaker:
    return DynamoDBBreaker(
        table,
        "marketo",
        threshold=int(options.get("threshold", 3)),
        cooldown_s=options.get("cooldown_s", 60),
        probe_lease_s=options.get("probe_lease_s", 120),
        wall_ms=lambda: clocks.wall_ms,
        monotonic=lambda: clocks.mono,
    )


def _call(copy: DynamoDBBreaker, *, ok: bool) -> None:
    """One call to Marketo through the breaker `copy`, which succeeds or fails."""
    copy.before_call()
    if ok:
        copy.succeeded()
    else:
        copy.failed()


def test_sustained_failures_across_copies_open_it_for_everyone(state_table: str) -> None:
    clocks = Clocks()
    one, two = _copy(state_table, clocks), _copy(state_table, clocks)
    _call(one, ok=False)
    _call(two, ok=False)
    assert one.snapshot().state == CLOSED
    one.failed()  # the third in a row, whichever copy saw it
    state = two.snapshot()
    assert (state.state, state.failures) == (OPEN, 3)
    with pytest.raises(CircuitOpen) as caught:
        two.before_call()
    assert 59 <= caught.value.retry_after_seconds <= 60


def test_a_success_between_failures_keeps_it_closed(state_table: str) -> None:
    clocks = Clocks()
    copy = _copy(state_table, clocks)
    for _ in range(5):
        _call(copy, ok=False)
        _call(copy, ok=False)
        _call(copy, ok=True)
    assert copy.snapshot().state == CLOSED
    assert copy.snapshot().failures == 0


def test_after_the_cool_down_one_probe_goes_through_and_its_success_closes_it(
    state_table: str,
) -> None:
    clocks = Clocks()
    opener, prober, other = (_copy(state_table, clocks) for _ in range(3))
    for _ in range(3):
        opener.failed()
    clocks.advance(61)
    prober.before_call()  # the probe
    assert prober.snapshot().state == HALF_OPEN
    with pytest.raises(CircuitOpen):
        other.before_call()  # only one probe at a time
    prober.succeeded()
    assert other.snapshot().state == CLOSED
    other.before_call()


def test_a_failed_probe_opens_it_again_for_a_new_cool_down(state_table: str) -> None:
    clocks = Clocks()
    opener, prober = _copy(state_table, clocks), _copy(state_table, clocks)
    for _ in range(3):
        opener.failed()
    clocks.advance(61)
    prober.before_call()
    prober.failed()
    assert prober.snapshot().state == OPEN
    clocks.advance(30)
    with pytest.raises(CircuitOpen):
        opener.before_call()
    clocks.advance(31)
    opener.before_call()  # the next probe
    assert opener.snapshot().state == HALF_OPEN


def test_a_probe_whose_copy_died_is_taken_over_after_its_lease(state_table: str) -> None:
    clocks = Clocks()
    opener, dead, alive = (_copy(state_table, clocks, probe_lease_s=30) for _ in range(3))
    for _ in range(3):
        opener.failed()
    clocks.advance(61)
    dead.before_call()  # takes the probe, then its process is killed
    with pytest.raises(CircuitOpen):
        alive.before_call()
    clocks.advance(31)
    alive.before_call()
    alive.succeeded()
    assert alive.snapshot().state == CLOSED


def test_a_healthy_run_reads_the_item_only_every_few_seconds(state_table: str) -> None:
    clocks = Clocks()
    copy = _copy(state_table, clocks)
    for _ in range(50):
        _call(copy, ok=True)
        clocks.advance(0.1)  # 50 calls in 5 s
    assert copy.requests <= 3
