"""Every request the simulator answered, kept compact so 100k+ entries stay cheap."""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

from .clock import iso_utc


@dataclass(slots=True)
class AuditEntry:
    seq: int
    time: float
    method: str
    path: str
    action: str
    user: str | None
    records: int
    http_status: int
    errors: tuple[str, ...]
    reasons: tuple[str, ...]
    counted: bool
    duration_ms: float
    in_flight_at_start: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": iso_utc(self.time),
            "epoch": round(self.time, 3),
            "method": self.method,
            "path": self.path,
            "action": self.action,
            "user": self.user,
            "records": self.records,
            "http_status": self.http_status,
            "errors": list(self.errors),
            "reasons": list(self.reasons),
            "counted": self.counted,
            "duration_ms": round(self.duration_ms, 2),
            "in_flight_at_start": self.in_flight_at_start,
        }


class AuditLog:
    def __init__(self, max_entries: int) -> None:
        self._max = max_entries
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._entries: deque[AuditEntry] = deque(maxlen=self._max)
            self._seq = 0
            self.by_code: Counter[str] = Counter()
            self.by_reason: Counter[str] = Counter()
            self.by_status: Counter[int] = Counter()
            self.by_action: Counter[str] = Counter()
            self.errors_by_day: dict[str, Counter[str]] = {}

    def add(self, entry: AuditEntry, day: str) -> None:
        with self._lock:
            self._seq += 1
            entry.seq = self._seq
            self._entries.append(entry)
            self.by_status[entry.http_status] += 1
            self.by_action[entry.action] += 1
            for code in entry.errors:
                self.by_code[code] += 1
                self.errors_by_day.setdefault(day, Counter())[code] += 1
            for code in entry.reasons:
                self.by_reason[code] += 1

    def errors_on(self, day: str) -> dict[str, int]:
        with self._lock:
            return dict(self.errors_by_day.get(day, Counter()))

    def summary(self, since: int = 0, limit: int | None = None) -> dict[str, Any]:
        with self._lock:
            picked = [e for e in self._entries if e.seq > since]
            if limit is not None:
                picked = picked[-limit:] if limit > 0 else []
            return {
                "total_requests": self._seq,
                "retained_requests": len(self._entries),
                "by_code": dict(self.by_code),
                "by_reason": dict(self.by_reason),
                "by_http_status": {str(k): v for k, v in self.by_status.items()},
                "by_action": dict(self.by_action),
                "requests": [e.to_dict() for e in picked],
            }
