"""The audit of every API request, and of every fault injected into them, by kind."""

from __future__ import annotations

import threading
from collections import Counter, deque
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any


class Audit:
    """Every API request: when, what it asked for, how it was answered."""

    def __init__(self, kinds: Iterable[str] = (), capacity: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._items: deque[dict[str, Any]] = deque(maxlen=capacity)
        self._kinds = tuple(kinds)
        self._faults: Counter[str] = Counter()
        self.total = 0

    def record(self, entry: dict[str, Any]) -> None:
        entry.setdefault("time", datetime.now(UTC).isoformat(timespec="microseconds"))
        with self._lock:
            self.total += 1
            self._items.append(entry)

    def count_faults(self, kinds: Iterable[str]) -> None:
        with self._lock:
            self._faults.update(kinds)

    def fault_counts(self) -> dict[str, int]:
        """Every known kind, zero included, so a reader never has to guess a missing key."""
        with self._lock:
            counts = dict.fromkeys(self._kinds, 0)
            counts.update(self._faults)
            return counts

    def items(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._faults.clear()
            self.total = 0
