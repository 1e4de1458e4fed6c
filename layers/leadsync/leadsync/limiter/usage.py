"""Keeping the limiter's picture of the whole instance's daily usage current.

leadsync shares the instance's daily quota with other integrations, which only
stats/usage.json reveals, and reading it is itself a Marketo call. So every copy may ask,
but at most one copy per interval (across all of them) spends the call: the time of the last
check lives on the limiter's item and a conditional write claims the next one. The numbers
only narrow the daily budget, and 607 answers stop calls anyway, so the sync is advisory:
when it fails, the limiter keeps the figures it had and the next interval tries again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from leadsync.errors import LeadsyncError
from leadsync.limiter.dynamodb import DynamoDBLimiter
from leadsync.runtime.clock import Clock, utc_now

logger = logging.getLogger(__name__)


class InstanceUsageSync:
    """`maybe_sync()` wherever convenient (every invocation is fine): it costs nothing while
    the last check is recent, one conditional write when one is due, and one `read_usage()`
    (in production `lambda: client.usage_today().total`) for the one copy that wins it.

    `every_seconds`: None takes the limiter's `config.usage_sync_seconds` (300 by default,
    MARKETO_USAGE_SYNC_SECONDS)."""

    def __init__(
        self,
        limiter: DynamoDBLimiter,
        read_usage: Callable[[], int],
        *,
        every_seconds: float | None = None,
        clock: Clock = utc_now,
    ) -> None:
        if every_seconds is None:
            every_seconds = limiter.config.usage_sync_seconds
        if every_seconds <= 0:
            raise ValueError("every_seconds must be positive")
        self._limiter = limiter
        self._read_usage = read_usage
        self._every_ms = int(every_seconds * 1000)
        self._clock = clock

    def maybe_sync(self) -> bool:
        """Read the instance's usage and record it on the limiter if it is this copy's turn.

        True when the figures were recorded; False when it was not due, another copy had the
        turn, or reading or recording failed (logged: a failed turn waits for the next)."""
        now_ms = int(self._clock().timestamp() * 1000)
        try:
            if not self._limiter.claim_usage_check(now_ms, self._every_ms):
                return False
        except LeadsyncError as exc:
            logger.warning("limiter: could not claim the instance usage check: %s", exc)
            return False
        try:
            total = self._read_usage()
            self._limiter.instance_usage(total)
        except Exception as exc:  # advisory: the limiter keeps the figures it had
            logger.warning("limiter: instance usage not synced: %s: %s", type(exc).__name__, exc)
            return False
        logger.info("limiter: instance usage today is %d calls", total)
        return True
