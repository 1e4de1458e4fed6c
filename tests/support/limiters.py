"""Limiters that stand in for the shared one in tests of the Marketo client."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field

from leadsync.limiter.api import BudgetExhausted, Outcome, Permit


@dataclass
class OpenLimiter:
    """Grants every permit at once."""

    _ids: Iterator[int] = field(default_factory=itertools.count)

    def acquire(self, *, deadline_monotonic: float) -> Permit:
        return Permit(f"lease-{next(self._ids)}", 0, 1)

    def release(self, permit: Permit, outcome: Outcome) -> None:
        return None


@dataclass
class RecordingLimiter:
    """Records acquire/release pairs; can refuse permits. Releasing a permit it did not
    grant, or one released already, fails the test."""

    acquired: list[str] = field(default_factory=list)
    released: list[tuple[str, Outcome]] = field(default_factory=list)
    deadlines: list[float] = field(default_factory=list)
    refuse: bool = False
    _ids: Iterator[int] = field(default_factory=itertools.count)

    def acquire(self, *, deadline_monotonic: float) -> Permit:
        if self.refuse:
            raise BudgetExhausted("no permit", retry_after_seconds=3)
        self.deadlines.append(deadline_monotonic)
        lease = f"lease-{next(self._ids)}"
        self.acquired.append(lease)
        return Permit(lease, 0, 1)

    def release(self, permit: Permit, outcome: Outcome) -> None:
        assert permit.lease_id in self.acquired
        assert permit.lease_id not in {lease for lease, _ in self.released}
        self.released.append((permit.lease_id, outcome))

    @property
    def outcomes(self) -> list[Outcome]:
        return [o for _, o in self.released]

    def balanced(self) -> bool:
        return sorted(self.acquired) == sorted(lease for lease, _ in self.released)
