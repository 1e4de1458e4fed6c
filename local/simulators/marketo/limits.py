"""Instance-wide limits enforced from real state: sliding window, daily quota, calls in flight.

All users share them, including the simulated neighbour integration, whose calls are
accounted lazily (evenly spaced at its configured rate) each time the state is read.
"""

from __future__ import annotations

import math
import threading
from collections import Counter, deque
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from .config import FaultConfig, SimulatorConfig

_KEEP_DAYS = 8
_KEEP_EVENTS = 1000


@dataclass(frozen=True)
class Admission:
    code: str | None
    message: str
    in_flight: int


class LimitState:
    def __init__(self, config: SimulatorConfig, faults: FaultConfig) -> None:
        self._lock = threading.Lock()
        self._nb_next: float | None = None
        self.configure(config, faults)
        self.reset()

    def configure(self, config: SimulatorConfig, faults: FaultConfig) -> None:
        self._window_s = float(config.window_seconds)
        self._per_window = int(config.calls_per_window)
        self._max_in_flight = int(config.max_in_flight)
        self._daily_quota = int(config.daily_quota)
        self.tz = ZoneInfo(config.quota_timezone)
        self._count_refused = bool(config.count_refused_calls)
        self._faults = faults

    def set_faults(self, faults: FaultConfig, now: float) -> None:
        """The neighbour (re)starts calling at `now` when its rate changes."""
        with self._lock:
            changed = faults.neighbour_calls_per_window != self._faults.neighbour_calls_per_window
            if changed or self._nb_next is None:
                if self._nb_next is not None:
                    self._neighbour_until(now)
                self._nb_next = now
            self._faults = faults

    def reset(self) -> None:
        with self._lock:
            self._window: deque[float] = deque()
            self._accepted: deque[float] = deque()
            self._accepted_by_user: dict[str, deque[float]] = {}
            self.peak_calls_in_window = 0
            self.peak_by_user: Counter[str] = Counter()
            self._quota: dict[str, Counter[str]] = {}
            self.in_flight = 0
            self.peak_in_flight = 0
            self.limit_errors: Counter[str] = Counter()
            self.limit_events: deque[dict[str, Any]] = deque(maxlen=_KEEP_EVENTS)
            self._nb_next = None

    # -- calendar -------------------------------------------------------------------------
    def day(self, t: float) -> str:
        return datetime.fromtimestamp(t, self.tz).date().isoformat()

    def next_midnight(self, t: float) -> float:
        local = datetime.fromtimestamp(t, self.tz).date() + timedelta(days=1)
        return datetime.combine(local, time(0), tzinfo=self.tz).timestamp()

    # -- admission ------------------------------------------------------------------------
    def admit(self, user: str, now: float, counted: bool, path: str) -> Admission:
        with self._lock:
            self._neighbour_until(now)
            code, message = self._judge(now)
            if code is None:
                self.in_flight += 1
                self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
                if counted:
                    self._record(now, user, accepted=True)
                return Admission(None, "", self.in_flight)
            if counted and self._count_refused:
                self._record(now, user, accepted=False)
            self.limit_errors[code] += 1
            self.limit_events.append({"time": now, "code": code, "user": user, "path": path})
            return Admission(code, message, self.in_flight)

    def release(self) -> None:
        with self._lock:
            self.in_flight -= 1

    def _judge(self, now: float) -> tuple[str | None, str]:
        if sum(self._quota.get(self.day(now), Counter()).values()) >= self._daily_quota:
            return "607", "Daily quota reached"
        self._prune(self._window, now)
        if len(self._window) >= self._per_window:
            return "606", (
                f"Max rate limit '{self._per_window}' exceeded with in '{self._window_s:g}' secs"
            )
        if self.in_flight + self._faults.neighbour_in_flight >= self._max_in_flight:
            return "615", "Concurrent access limit reached"
        return None, ""

    def _record(self, t: float, user: str, accepted: bool) -> None:
        self._window.append(t)
        day = self.day(t)
        if day not in self._quota:
            self._quota[day] = Counter()
            for old in sorted(self._quota)[:-_KEEP_DAYS]:
                del self._quota[old]
        self._quota[day][user] += 1
        if not accepted:
            return
        self._accepted.append(t)
        self._prune(self._accepted, t)
        self.peak_calls_in_window = max(self.peak_calls_in_window, len(self._accepted))
        mine = self._accepted_by_user.setdefault(user, deque())
        mine.append(t)
        self._prune(mine, t)
        self.peak_by_user[user] = max(self.peak_by_user[user], len(mine))

    def _prune(self, times: deque[float], now: float) -> None:
        edge = now - self._window_s
        while times and times[0] <= edge:
            times.popleft()

    # -- the other integration ------------------------------------------------------------
    def _neighbour_until(self, now: float) -> None:
        f = self._faults
        if f.neighbour_calls_per_window <= 0:
            self._nb_next = None
            return
        interval = self._window_s / f.neighbour_calls_per_window
        user = f.neighbour_user_id
        t = now if self._nb_next is None else self._nb_next
        while t <= now:
            day = self.day(t)
            used = self._quota.get(day, Counter())[user]
            cap = f.neighbour_daily_calls
            if cap and used >= cap:
                t = max(t + interval, self.next_midnight(t))
                continue
            if t <= now - self._window_s:
                # long gone from every window: count it, skip the per-call bookkeeping
                seg_end = min(self.next_midnight(t), now - self._window_s)
                k = max(1, math.ceil((seg_end - t) / interval))
                if cap:
                    k = min(k, cap - used)
                self._quota.setdefault(day, Counter())[user] += k
                self.peak_calls_in_window = max(
                    self.peak_calls_in_window, min(f.neighbour_calls_per_window, self._per_window)
                )
                t = t + k * interval
                continue
            self._prune(self._window, t)
            accepted = len(self._window) < self._per_window
            if accepted or self._count_refused:
                self._record(t, user, accepted)
            t = t + interval
        self._nb_next = t

    # -- reading --------------------------------------------------------------------------
    def usage(self, now: float) -> tuple[str, dict[str, int]]:
        with self._lock:
            self._neighbour_until(now)
            day = self.day(now)
            return day, dict(self._quota.get(day, Counter()))

    def calls_in_window(self, now: float) -> int:
        with self._lock:
            self._neighbour_until(now)
            self._prune(self._window, now)
            return len(self._window)

    def snapshot(self, now: float) -> dict[str, Any]:
        day, users = self.usage(now)
        with self._lock:
            self._prune(self._window, now)
            return {
                "quota_day": day,
                "quota_used": sum(users.values()),
                "quota_used_by_user": users,
                "calls_in_window_now": len(self._window),
                "peak_calls_in_window": self.peak_calls_in_window,
                "peak_calls_in_window_by_user": dict(self.peak_by_user),
                "in_flight_now": self.in_flight,
                "peak_in_flight": self.peak_in_flight,
                "limit_errors": {
                    "counts": {c: self.limit_errors[c] for c in ("606", "607", "615")},
                    "recent": list(self.limit_events),
                },
            }
