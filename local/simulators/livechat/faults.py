"""Switchable faults for API requests, and the audit of every API request."""

from __future__ import annotations

import dataclasses
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from local.simulators.livechat.errors import ApiError


@dataclass
class FaultConfig:
    rate_limit_every: int = 0  # every Nth API request answers 429 too_many_requests
    rate_limit_next: int = 0  # the next K API requests answer 429
    internal_every: int = 0  # every Nth API request answers 500 internal
    internal_next: int = 0  # the next K API requests answer 500
    delay_seconds: float = 0.0  # a pause before every API answer (slow server, client timeouts)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> FaultConfig:
        config = cls()
        config.update(data)
        return config

    def update(self, data: Mapping[str, Any]) -> None:
        names = {f.name: f for f in dataclasses.fields(self)}
        unknown = set(data) - set(names)
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        for name, value in data.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"{name} must be a number >= 0")
            if name != "delay_seconds" and not isinstance(value, int):
                raise ValueError(f"{name} must be an integer")
            setattr(self, name, value)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class Faults:
    """Decides, per API request, whether it fails; thread-safe."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self.config = config or FaultConfig()
        self.requests = 0

    def configure(self, data: Mapping[str, Any]) -> FaultConfig:
        with self._lock:
            fresh = dataclasses.replace(self.config)
            fresh.update(data)
            self.config = fresh
            return fresh

    def reset(self, config: FaultConfig | None = None) -> None:
        with self._lock:
            self.config = config or FaultConfig()
            self.requests = 0

    def check(self) -> tuple[ApiError | None, float]:
        """(the error this request gets, or None; the delay before answering)."""
        with self._lock:
            self.requests += 1
            c, n = self.config, self.requests
            error: ApiError | None = None
            if c.rate_limit_next > 0:
                c.rate_limit_next -= 1
                error = _too_many()
            elif c.internal_next > 0:
                c.internal_next -= 1
                error = _internal()
            elif c.rate_limit_every and n % c.rate_limit_every == 0:
                error = _too_many()
            elif c.internal_every and n % c.internal_every == 0:
                error = _internal()
            return error, c.delay_seconds


def _too_many() -> ApiError:
    return ApiError("too_many_requests", "Requests limit exceeded. Try again later.")


def _internal() -> ApiError:
    return ApiError("internal", "Internal server error")


class Audit:
    """Every API request: when, what it asked for, how it was answered."""

    def __init__(self, capacity: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._items: deque[dict[str, Any]] = deque(maxlen=capacity)
        self.total = 0

    def record(self, entry: dict[str, Any]) -> None:
        entry.setdefault("time", datetime.now(UTC).isoformat(timespec="microseconds"))
        with self._lock:
            self.total += 1
            self._items.append(entry)

    def items(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.total = 0
