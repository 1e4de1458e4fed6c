"""When a copy that was refused looks again, so that waiters do not all race for one token.

Copies refused for want of a token all compute the same wait, wake together and write
together: one wins and every other conditional write is lost (5 copies measured 5.7 writes
per granted call). A copy that has lately seen others take tokens therefore wakes at a
random moment among the next refills, about one per rival, and after a sleep it reads
before it writes: a state that others have changed is sure to lose, and a read is cheaper
than a lost write. A copy that sees nobody else keeps the exact wait and its single write.

Rivals are counted by who they are (the copy part of the lease ids seen in the item), not by
how many grants went to others for each of ours: that ratio is low for a copy that happens to
win often, would shorten its waits and let it win more still. Every copy drawing from the
same spread keeps the sharing as fair as a lottery.

Waking late wastes tokens only once the bucket is full, so the spread never reaches past the
moment an untouched bucket would have overflowed by more than `SLACK_TOKENS`: should the
rivals be gone, a sleeper loses at most that many tokens.
"""

from __future__ import annotations

from collections.abc import Callable

from leadsync.limiter.bucket import refill
from leadsync.limiter.config import MILLI, LimiterConfig
from leadsync.limiter.state import LimiterState

SLACK_TOKENS = 1  # refills a spread sleeper may let overflow, at most, if it is alone after all
STALE_AFTER = 0.25  # token intervals: a contended copy reads first when its state is older
_JITTER = 1 / 16  # token intervals: each copy's own offset, so spread waits rarely coincide
OWNER_SEPARATOR = "."  # lease ids are "<copy>.<unique>"


def token_interval_ms(state: LimiterState, config: LimiterConfig) -> float:
    """Milliseconds between two refills at the state's adaptive rate."""
    per_window = config.refill_milli_per_window * max(1, state.factor_milli) / MILLI
    return config.window_ms * MILLI / per_window


def lease_owner(lease_id: str) -> str:
    return lease_id.partition(OWNER_SEPARATOR)[0]


class Pacer:
    """One copy's view of its rivals, from the items it happens to see.

    Every acquire that wins bumps the version, so between two looks at the item the version
    tells whether someone else was granted a call; the leases in flight tell who. Not
    thread-safe: the adapter calls it under its lock."""

    def __init__(self, config: LimiterConfig, owner: str, random: Callable[[], float]) -> None:
        self._config = config
        self._owner = owner
        self._random = random
        self._version: int | None = None
        self._seen_at_ms = 0
        self._rivals_at_ms: int | None = None  # when a look last showed a grant by others
        self._owners: dict[str, int] = {}  # rival copy → when its lease was last seen

    def observe(self, state: LimiterState, now_ms: int, *, won_acquire: bool = False) -> None:
        """Record a look at the item (a read, or the item an UpdateItem returned)."""
        if self._version is not None and state.version - self._version > int(won_acquire):
            self._rivals_at_ms = now_ms
        for lease in state.leases:
            owner = lease_owner(lease)
            if owner != self._owner:
                self._owners[owner] = now_ms
        self._version = state.version
        self._seen_at_ms = now_ms

    def contended(self, now_ms: int) -> bool:
        """Have others been granted calls within the last window?

        A whole window, not a few refills: a copy that went without seeing anyone else's
        grant for a while is most likely one that has been winning every token, and waiting
        exactly again would let it keep winning them all."""
        if self._rivals_at_ms is None:
            return False
        return now_ms - self._rivals_at_ms <= self._config.window_ms

    def rivals(self, now_ms: int) -> int:
        """Other copies seen holding a lease within the last window (at least one)."""
        since = now_ms - self._config.window_ms
        self._owners = {owner: at for owner, at in self._owners.items() if at >= since}
        return max(1, len(self._owners))

    def should_read(self, state: LimiterState, now_ms: int) -> bool:
        """Read before deciding: under contention an older state has most likely changed."""
        if self._version is None or not self.contended(now_ms):
            return False
        return now_ms - self._seen_at_ms > STALE_AFTER * token_interval_ms(state, self._config)

    def rate_wait_ms(self, state: LimiterState, now_ms: int, wait_ms: int) -> int:
        """How long to sleep when refused a token that comes in `wait_ms`."""
        if not self.contended(now_ms):
            return wait_ms
        interval = token_interval_ms(state, self._config)
        tokens, _ = refill(state, now_ms, self._config, state.factor_milli)
        full_in = (self._config.capacity_milli - tokens) * interval / MILLI
        room = max(0.0, full_in + SLACK_TOKENS * interval - wait_ms)
        spread = min(self.rivals(now_ms) * interval, room)
        extra = self._random() * spread + self._random() * interval * _JITTER
        return wait_ms + int(extra)

    def poll_wait_ms(self, wait_ms: int) -> int:
        """How long to sleep before looking again for a free lease: about `poll_ms`, never
        past the first lease's expiry, different for each copy so that their reads spread."""
        return max(1, min(wait_ms, int(self._config.poll_ms * (0.5 + self._random()))))
