"""Seeded fault decisions, so a run with the same seed and calls misbehaves the same way."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

from .config import FaultConfig


@dataclass(frozen=True)
class CallFault:
    code: str | None = None  # 604 | 611 | 713
    timeout_after_apply: bool = False
    drop: bool = False
    latency_s: float = 0.0

    @property
    def counted(self) -> bool:
        return self.code not in {"604", "611"}


class FaultInjector:
    def __init__(self, faults: FaultConfig, seed: int) -> None:
        self._rng = random.Random(f"faults-{seed}")
        self._lock = threading.Lock()
        self.current = faults

    def reseed(self, seed: int) -> None:
        with self._lock:
            self._rng = random.Random(f"faults-{seed}")

    def _hit(self, probability: float) -> bool:
        return probability > 0 and self._rng.random() < probability

    def edge(self) -> int | None:
        """An HTTP error from the edge, before the API sees the call."""
        f = self.current
        with self._lock:
            if self._hit(f.http_502_probability):
                return 502
            if self._hit(f.http_5xx_probability):
                return self._rng.choice(f.http_5xx_statuses or [500])
        return None

    def call(self) -> CallFault:
        f = self.current
        with self._lock:
            latency = 0.0
            if self._hit(f.slow_probability):
                low, high = sorted((f.slow_min_ms, f.slow_max_ms))
                latency = self._rng.uniform(low, high) / 1000.0
            if self._hit(f.timeout_probability):
                return CallFault(
                    "604",
                    timeout_after_apply=self._hit(f.timeout_after_apply_probability),
                    drop=self._hit(f.timeout_drop_probability),
                    latency_s=latency,
                )
            if self._hit(f.error_611_probability):
                return CallFault("611", latency_s=latency)
            if self._hit(f.error_713_probability):
                return CallFault("713", latency_s=latency)
            return CallFault(latency_s=latency)

    def record_reject(self) -> str | None:
        f = self.current
        with self._lock:
            if self._hit(f.record_reject_probability):
                return self._rng.choice(f.record_reject_codes or ["1003"])
        return None

    def chance(self, probability: float) -> bool:
        with self._lock:
            return self._hit(probability)
