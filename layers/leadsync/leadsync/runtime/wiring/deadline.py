"""How long a Marketo call may wait for a permit, inside the running invocation's time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol


class HasRemainingTime(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


class InvocationDeadline:
    """How long a Marketo call may wait for a permit: a short wait, inside the invocation's
    remaining time less a margin for handing the rest back to the queue. Never started (a
    command on a workstation): the short wait only, and unbounded time for retries."""

    def __init__(
        self,
        *,
        margin_s: float = 15.0,
        max_wait_s: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._margin = margin_s
        self._max_wait = max_wait_s
        self._monotonic = monotonic
        self._ends: float | None = None

    def start(self, context: HasRemainingTime) -> None:
        self._ends = self._monotonic() + context.get_remaining_time_in_millis() / 1000

    def remaining_s(self) -> float:
        """Seconds left for work before the margin; unbounded outside an invocation."""
        if self._ends is None:
            return float("inf")
        return self._ends - self._margin - self._monotonic()

    def __call__(self) -> float:
        now = self._monotonic()
        latest = now + self._max_wait
        if self._ends is None:
            return latest
        return min(latest, self._ends - self._margin)
