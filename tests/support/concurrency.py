"""Running calls at the same moment, for tests of what happens when they race."""

from __future__ import annotations

import threading
from collections.abc import Callable


def run_together(target: Callable[[], None], copies: int, timeout_s: float = 10) -> None:
    """`copies` threads run `target` at once (a barrier inside it lines them up); returns when
    they have ended, or each has had `timeout_s`."""
    threads = [threading.Thread(target=target) for _ in range(copies)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout_s)
