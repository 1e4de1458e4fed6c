"""Waiting for something the local world does: poll with a deadline, never a bare sleep."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def until(check: Callable[[], Any], what: str, deadline_s: float = 60.0) -> Any:
    """`check()`'s first truthy answer; AssertionError naming `what` once the deadline passed."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        found = check()
        if found:
            return found
        time.sleep(0.1)  # polling the simulator, bounded by the deadline
    raise AssertionError(f"not within {deadline_s} s: {what}")
