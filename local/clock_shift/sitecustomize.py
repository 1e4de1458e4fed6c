"""Loaded by every Python process started with this folder on its path (the local world's
function environments, when a run lets days pass): their wall clock reads real time plus
the offset in the file LEADSYNC_LOCAL_CLOCK_FILE names, read again at most once a second.
The monotonic clock stays real, so timeouts and deadlines are untouched. Only the local
world's runtime does this; the product reads the time as it always does."""

from __future__ import annotations

import datetime as _datetime
import os
import threading
import time as _time

_FILE = os.environ.get("LEADSYNC_LOCAL_CLOCK_FILE", "")
_real_time = _time.time
_real_time_ns = _time.time_ns
_lock = threading.Lock()
_cached = [0.0, -1.0]  # offset seconds, monotonic time it was read


def offset() -> float:
    now = _time.monotonic()
    with _lock:
        if now - _cached[1] >= 1.0:
            try:
                with open(_FILE, encoding="utf-8") as handle:
                    _cached[0] = float(handle.read().strip() or 0)
            except (OSError, ValueError):
                pass  # keep the last offset read
            _cached[1] = now
        return _cached[0]


class _Shifted(_datetime.datetime):
    @classmethod
    def now(cls, tz: _datetime.tzinfo | None = None) -> _Shifted:
        return cls.fromtimestamp(_real_time() + offset(), tz)

    @classmethod
    def utcnow(cls) -> _Shifted:
        moment = cls.fromtimestamp(_real_time() + offset(), _datetime.UTC)
        return moment.replace(tzinfo=None)

    @classmethod
    def today(cls) -> _Shifted:
        return cls.fromtimestamp(_real_time() + offset())


if _FILE:
    _time.time = lambda: _real_time() + offset()
    _time.time_ns = lambda: _real_time_ns() + int(offset() * 1e9)
    _datetime.datetime = _Shifted  # type: ignore[misc]
