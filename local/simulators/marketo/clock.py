"""Simulated wall clock: real elapsed time plus an offset tests can move forward."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime


class SimClock:
    """Never goes backwards: built on time.monotonic, moved only by advance()."""

    def __init__(self, start_epoch: float | None = None) -> None:
        self._base_epoch = time.time() if start_epoch is None else start_epoch
        self._base_mono = time.monotonic()
        self._offset = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        return self._base_epoch + (time.monotonic() - self._base_mono) + self._offset

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("the simulated clock only moves forward")
        with self._lock:
            self._offset += seconds
        return self.now()

    def advance_to(self, epoch: float) -> float:
        with self._lock:
            gap = epoch - self.now()
            if gap > 0:
                self._offset += gap
        return self.now()

    @property
    def offset(self) -> float:
        return self._offset

    def iso(self, epoch: float | None = None) -> str:
        return iso_utc(self.now() if epoch is None else epoch)


def iso_utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_start_time(value: str | None) -> float | None:
    if value is None:
        return None
    stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.timestamp()
