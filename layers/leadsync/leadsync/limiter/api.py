"""What every Marketo call asks of the limiter, and what the limiter answers.

Every call to Marketo (identity calls excepted: Marketo does not count them) acquires a
`Permit` before it is sent and releases it with the call's `Outcome` after the answer, whatever
the answer was. The limiter is shared by every function and every concurrent copy of them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from leadsync.errors import LeadsyncError


@dataclass(frozen=True)
class Permit:
    """Leave to send one call: a lease on one of the calls in flight, until `expires_at_ms`."""

    lease_id: str
    acquired_at_ms: int
    expires_at_ms: int


class Outcome(enum.Enum):
    """What became of a call, as far as the shared limits are concerned."""

    DONE = "done"  # Marketo answered (success, or an error that counted as a call)
    NOT_COUNTED = "not_counted"  # 601/602/604/605/608/611: Marketo did not count the call
    RATE_LIMITED = "rate_limited"  # 606: someone else used the window; slow down
    CONCURRENCY_LIMITED = "concurrency_limited"  # 615: too many calls in flight instance-wide
    QUOTA_EXHAUSTED = "quota_exhausted"  # 607: the instance's daily quota is spent
    FAILED = "failed"  # no answer (timeout, connection error): may or may not have counted


class BudgetExhausted(LeadsyncError):
    """No permit within the caller's deadline. The work waits (back on the queue with a delay);
    it is never dropped."""

    retryable = True

    def __init__(self, message: str, *, retry_after_seconds: float) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class DailyQuotaExhausted(BudgetExhausted):
    """leadsync's daily cap (or the instance's quota) is spent until `resumes_at`."""

    def __init__(self, message: str, *, resumes_at: datetime, retry_after_seconds: float) -> None:
        super().__init__(message, retry_after_seconds=retry_after_seconds)
        self.resumes_at = resumes_at


class Limiter(Protocol):
    def acquire(self, *, deadline_monotonic: float) -> Permit:
        """Wait (inside the deadline) for a token of the rate and a lease in flight.

        Raises BudgetExhausted when the deadline comes first, DailyQuotaExhausted when the day's
        budget is spent."""
        ...

    def release(self, permit: Permit, outcome: Outcome) -> None:
        """Give the lease back and tell the limiter how the call went."""
        ...
