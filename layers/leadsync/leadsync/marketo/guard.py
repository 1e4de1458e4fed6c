"""Retries with backoff and a circuit breaker around every call to a destination.

- Only the retryable classes are retried (5xx, timeouts, 604/608/611/713/719, a token
  refused after a fresh one): waits of about 1 s, 4 s and 16 s with jitter, never past the
  time the invocation has left. Then the failure goes to the caller, who gives the work
  back to the queue with its history.
- Rate limits and the daily quota are not failures of the destination: the limiter and the
  caller's deferral deal with them, and they are not retried here.
- The breaker (one per destination, shared by every function through the state table)
  opens after sustained failures; while it is open no call is made and CircuitOpen says
  how long to wait. After the cool-down one probe goes through: its success closes it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, Protocol, TypeVar

from leadsync.errors import DependencyError, LeadsyncError, RateLimited
from leadsync.marketo.models import Lead, RecordResult
from leadsync.ports import LeadWriter
from leadsync.runtime.clock import utc_now
from leadsync.runtime.observability import get_logger

T = TypeVar("T")

RETRY_DELAYS_S: tuple[float, ...] = (1.0, 4.0, 16.0)
JITTER = 0.25  # each wait is its delay times a factor drawn from [1 - JITTER, 1 + JITTER]


class CircuitOpen(LeadsyncError):
    """The destination is failing: no call is made until `retry_after_seconds` have passed."""

    retryable = True

    def __init__(self, dependency: str, retry_after_seconds: float) -> None:
        super().__init__(
            f"circuit breaker for {dependency} is open; retry in {retry_after_seconds:.0f} s"
        )
        self.dependency = dependency
        self.retry_after_seconds = max(1.0, retry_after_seconds)


class Breaker(Protocol):
    def before_call(self) -> None:
        """Raise CircuitOpen when no call may be made now."""

    def succeeded(self) -> None: ...

    def failed(self) -> None: ...


class NoBreaker:
    def before_call(self) -> None:
        return None

    def succeeded(self) -> None:
        return None

    def failed(self) -> None:
        return None


def is_retryable(exc: BaseException) -> bool:
    """Transient failures of the destination; rate limits and quotas are not among them."""
    return isinstance(exc, DependencyError) and exc.retryable and not isinstance(exc, RateLimited)


@dataclass(frozen=True)
class Attempt:
    """One failed try of one call, as it goes into a batch's history."""

    at: datetime
    code: str
    message: str
    request: str


class GaveUp(DependencyError):
    """The retries of one call are spent (or the invocation's time is): the last failure,
    the request it answered, and how many tries were made."""

    def __init__(self, cause: BaseException, *, request: str, tries: int) -> None:
        dependency = getattr(cause, "dependency", "destination")
        super().__init__(
            f"{request}: gave up after {tries} tries: {cause}",
            dependency=dependency,
            retryable=True,
        )
        self.cause = cause
        self.request = request
        self.tries = tries
        self.code = str(getattr(cause, "code", "") or type(cause).__name__)
        self.detail = str(getattr(cause, "detail", "") or cause)


@dataclass
class RetryPolicy:
    delays_s: Sequence[float] = RETRY_DELAYS_S
    jitter: float = JITTER
    # a retry starts only if this many seconds would remain for the call itself
    call_room_s: float = 5.0
    rng: random.Random = field(default_factory=random.Random)

    def wait_for(self, retry: int) -> float:
        base = self.delays_s[retry]
        return base * self.rng.uniform(1 - self.jitter, 1 + self.jitter)


class Guard:
    """Runs a call through the breaker and the retries; keeps every failed try."""

    def __init__(
        self,
        breaker: Breaker | None = None,
        policy: RetryPolicy | None = None,
        *,
        remaining_s: Callable[[], float] = lambda: float("inf"),
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = utc_now,
        retryable: Callable[[BaseException], bool] = is_retryable,
    ) -> None:
        self.breaker: Breaker = breaker or NoBreaker()
        self.policy = policy or RetryPolicy()
        self._retryable = retryable
        self._remaining = remaining_s
        self._sleep = sleep
        self._now = now
        self.last_attempt: Attempt | None = None

    def call(self, request: str, fn: Callable[[], T]) -> T:
        retry = 0
        while True:
            self.breaker.before_call()
            try:
                result = fn()
            except BaseException as exc:
                if not self._retryable(exc):
                    # the destination answered (a refusal, a rate limit): it is up
                    self.breaker.succeeded()
                    raise
                self.breaker.failed()
                self.last_attempt = Attempt(
                    at=self._now(),
                    code=str(getattr(exc, "code", "") or type(exc).__name__)[:100],
                    message=str(getattr(exc, "detail", "") or exc)[:1000],
                    request=request[:200],
                )
                if retry >= len(self.policy.delays_s):
                    raise GaveUp(exc, request=request, tries=retry + 1) from exc
                # a rate limit that says when it lifts is waited out at least that long
                wait = max(self.policy.wait_for(retry), getattr(exc, "retry_after", None) or 0.0)
                if wait + self.policy.call_room_s > self._remaining():
                    raise GaveUp(exc, request=request, tries=retry + 1) from exc
                get_logger().info(
                    "retrying a failed call",
                    extra={"request": request, "code": self.last_attempt.code, "wait_s": wait},
                )
                self._sleep(wait)
                retry += 1
                continue
            self.breaker.succeeded()
            return result


Records = Sequence[Mapping[str, Any]]


class GuardedWriter:
    """A LeadWriter whose every call goes through a Guard, named by what it asks for.

    A lookup of many e-mails is guarded one call's worth (`lookup_size` e-mails) at a time:
    a failure retries that call, never the ones already answered."""

    def __init__(self, inner: LeadWriter, guard: Guard, *, lookup_size: int = 300) -> None:
        self._inner = inner
        self.guard = guard
        self._lookup_size = max(1, lookup_size)

    def _guarded[**P, R](
        self, request: str, fn: Callable[P, R], *args: P.args, **kwargs: P.kwargs
    ) -> R:
        return self.guard.call(request, partial(fn, *args, **kwargs))

    def lookup_by_email(
        self, emails: Iterable[str], fields: Sequence[str] = ()
    ) -> dict[str, list[Lead]]:
        wanted = list(emails)
        found: dict[str, list[Lead]] = {}
        for start in range(0, len(wanted), self._lookup_size):
            chunk = wanted[start : start + self._lookup_size]
            request = f"lookup {len(chunk)} e-mails"
            found.update(self._guarded(request, self._inner.lookup_by_email, chunk, fields))
        return found

    def create_only(self, records: Records, lookup_field: str = "email") -> list[RecordResult]:
        request = f"createOnly {len(records)} records"
        return self._guarded(request, self._inner.create_only, records, lookup_field)

    def create_or_update(self, records: Records, lookup_field: str = "email") -> list[RecordResult]:
        request = f"createOrUpdate {len(records)} records by {lookup_field}"
        return self._guarded(request, self._inner.create_or_update, records, lookup_field)

    def update_only(self, records: Records, lookup_field: str = "id") -> list[RecordResult]:
        request = f"updateOnly {len(records)} records by {lookup_field}"
        return self._guarded(request, self._inner.update_only, records, lookup_field)

    def add_to_list(self, list_id: int, ids: Sequence[int]) -> list[RecordResult]:
        request = f"add {len(ids)} leads to list {list_id}"
        return self._guarded(request, self._inner.add_to_list, list_id, ids)

    def remove_from_list(self, list_id: int, ids: Sequence[int]) -> list[RecordResult]:
        request = f"remove {len(ids)} leads from list {list_id}"
        return self._guarded(request, self._inner.remove_from_list, list_id, ids)

    def delete(self, ids: Sequence[int]) -> list[RecordResult]:
        return self._guarded(f"delete {len(ids)} leads", self._inner.delete, ids)
