"""The limiter shared by every function and copy: one DynamoDB item, thin adapter.

Acquire is ONE conditional UpdateItem per attempt: the pure `decide` computes the new state
from the last state this process saw, and the write holds only if `version` still equals
it. A lost race returns the winner's item (ALL_OLD), so the loser re-decides from it without
a read and without losing tokens. Releases are blind UpdateItems (no condition on the
version), so they never conflict. This is the ONE place that sleeps for pacing; how long,
when others wait too, is `pacing.Pacer`'s call.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from leadsync.adapters.state import translate_error
from leadsync.errors import ConditionFailed, LeadsyncError
from leadsync.limiter.api import BudgetExhausted, DailyQuotaExhausted, Outcome, Permit
from leadsync.limiter.bucket import decide
from leadsync.limiter.config import LimiterConfig
from leadsync.limiter.daily import current_day, local_day, next_midnight
from leadsync.limiter.item import (
    Update,
    acquire_update,
    decode,
    key,
    release_update,
    usage_claim_update,
    usage_update,
)
from leadsync.limiter.pacing import OWNER_SEPARATOR, Pacer
from leadsync.limiter.readout import BudgetReadout, budget_today
from leadsync.limiter.state import LimiterState, PermitDecision, PermitReason
from leadsync.runtime.clock import Clock, utc_now

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from leadsync.limiter.item import Item

logger = logging.getLogger(__name__)
_DAILY = frozenset({PermitReason.DAILY_CAP, PermitReason.INSTANCE_QUOTA})


@dataclass
class LimiterStats:
    """What the limiter cost: benchmarks report writes / grants as ddb_writes_per_call."""

    reads: int = 0
    writes: int = 0  # every UpdateItem sent, won or lost
    conflicts: int = 0  # conditional writes that lost a race (each also counted in writes)
    grants: int = 0
    releases: int = 0
    release_errors: int = 0
    slept_seconds: float = 0.0


def _new_lease_id() -> str:
    return uuid.uuid4().hex


class DynamoDBLimiter:
    """The `Limiter` of leadsync. Thread-safe; each process keeps its last-seen state."""

    def __init__(
        self,
        table_name: str,
        config: LimiterConfig,
        client: DynamoDBClient | None = None,
        *,
        name: str = "marketo",
        clock: Clock = utc_now,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        new_lease_id: Callable[[], str] = _new_lease_id,
        rng: Callable[[], float] | None = None,
    ) -> None:
        if client is None:
            from leadsync.adapters import aws

            client = aws.dynamodb()
        self._client = client
        self._table = table_name
        self._key = key(name)
        self.name = name
        self.config = config
        self._clock = clock
        self._monotonic = monotonic
        self._sleep = sleep
        self._new_lease_id = new_lease_id
        self._lock = threading.Lock()
        self._state: LimiterState | None = None  # None: cold, nothing seen yet
        self._owner = uuid.uuid4().hex[:8]  # this copy, as the lease ids name it
        self._pacer = Pacer(config, self._owner, rng or random.Random().random)
        self.stats = LimiterStats()

    # Limiter protocol -----------------------------------------------------------------------

    def acquire(self, *, deadline_monotonic: float) -> Permit:
        lease_id = f"{self._owner}{OWNER_SEPARATOR}{self._new_lease_id()}"
        fresh = False  # is the cached state straight from DynamoDB, within this call?
        look = False  # waited for a release: only a read can show it
        while True:
            now = self._now_ms()
            with self._lock:
                if self._state is None or (
                    not fresh and (look or self._pacer.should_read(self._cached(), now))
                ):
                    self._refresh(now)
                    fresh = True
                state = self._cached()
                decision = decide(state, now, self.config, lease_id)
                if decision.granted:
                    if self._write_acquire(state, decision.new_state, now):
                        self.stats.grants += 1
                        expires = decision.new_state.leases[lease_id]
                        return Permit(lease_id, acquired_at_ms=now, expires_at_ms=expires)
                    fresh = True
                    self._check_deadline(deadline_monotonic, 0)
                    continue
                # Releases do not bump the version, so a cached state can over-count leases
                # and calls: look once before waiting for a lease or giving up on the day.
                if decision.reason is not PermitReason.RATE and not fresh:
                    self._refresh(now)
                    fresh = True
                    continue
                wait_ms = self._wait_ms(decision, state, now, deadline_monotonic)
            self._sleep(wait_ms / 1000)
            self.stats.slept_seconds += wait_ms / 1000
            fresh = False
            look = decision.reason is PermitReason.IN_FLIGHT

    def release(self, permit: Permit, outcome: Outcome) -> None:
        """Never raises: a lease that cannot be given back expires by itself."""
        now = self._now_ms()
        zone = self.config.zone
        with self._lock:
            quota_day = current_day(self._cached(), now, zone)
            refund_day = local_day(permit.acquired_at_ms, zone)
            refund = outcome is Outcome.NOT_COUNTED
            try:
                won, _ = self._write(
                    release_update(
                        permit.lease_id, outcome, quota_day, refund_day if refund else None
                    ),
                    now,
                )
                if not won and refund:  # the day turned: the refund would land on a new day
                    self._write(release_update(permit.lease_id, outcome, quota_day, None), now)
            except LeadsyncError as exc:
                self.stats.release_errors += 1
                logger.warning("limiter: lease %s not released: %s", permit.lease_id, exc)
                return
            self.stats.releases += 1

    # Beyond the protocol ----------------------------------------------------------------------

    def instance_usage(self, total_used_today: int, *, day: str | None = None) -> None:
        """Record what stats/usage.json said the whole instance used today (or on `day`), so
        the daily budget also leaves room for the other integrations."""
        now = self._now_ms()
        report_day = day or local_day(now, self.config.zone)
        with self._lock:
            for same_day in (True, False, True):  # the day may turn between attempts
                update = usage_update(total_used_today, report_day, same_day=same_day)
                won, _ = self._write(update, now)
                if won:
                    return

    def claim_usage_check(self, now_ms: int, every_ms: int) -> bool:
        """Take this copy's turn to read the instance's usage, if nobody (in any copy) took
        one in the last `every_ms`. One conditional write when due; none at all while the
        state last seen says the last turn is recent, since turns only move forward."""
        with self._lock:
            if self._state is not None and self._state.usage_checked_ms > now_ms - every_ms:
                return False
            won, _ = self._write(usage_claim_update(now_ms, every_ms), now_ms)
            return won

    def snapshot(self) -> LimiterState:
        """The stored state, read now (operations, tests, benchmarks)."""
        with self._lock:
            self._refresh(self._now_ms())
            return self._cached()

    def budget_seen(self) -> BudgetReadout | None:
        """Today's budget as this copy last saw it, without a read (metrics after an
        invocation); None before it saw the item at all."""
        with self._lock:
            if self._state is None:
                return None
            return budget_today(self._state, self._now_ms(), self.config)

    # DynamoDB -------------------------------------------------------------------------------

    def _refresh(self, now_ms: int) -> None:
        self.stats.reads += 1
        try:
            answer = self._client.get_item(
                TableName=self._table, Key=self._key, ConsistentRead=True
            )
        except Exception as exc:
            raise translate_error(exc, "GetItem") from exc
        self._state = decode(answer.get("Item"))
        self._pacer.observe(self._state, now_ms)

    def _write_acquire(self, old: LimiterState, new: LimiterState, now_ms: int) -> bool:
        won, _ = self._write(acquire_update(old, new), now_ms, acquire=True)
        return won

    def _write(
        self, update: Update, now_ms: int, *, acquire: bool = False
    ) -> tuple[bool, LimiterState]:
        """Send one UpdateItem; cache the item it returns, new (won) or old (lost)."""
        self.stats.writes += 1
        request: dict[str, Any] = {
            "TableName": self._table,
            "Key": self._key,
            "UpdateExpression": update.expression(),
            "ExpressionAttributeNames": update.names,
            "ReturnValues": "ALL_NEW",
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
        if update.values:
            request["ExpressionAttributeValues"] = update.values
        if update.condition:
            request["ConditionExpression"] = update.condition
        try:
            answer = self._client.update_item(**request)
        except Exception as exc:
            error = translate_error(exc, "UpdateItem")
            if not isinstance(error, ConditionFailed):
                raise error from exc
            self.stats.conflicts += 1
            self._state = decode(_old_item(exc))
            self._pacer.observe(self._state, now_ms)
            return False, self._state
        self._state = decode(answer.get("Attributes"))
        self._pacer.observe(self._state, now_ms, won_acquire=acquire)
        return True, self._state

    # Time -----------------------------------------------------------------------------------

    def _now_ms(self) -> int:
        return int(self._clock().timestamp() * 1000)

    def _cached(self) -> LimiterState:
        return self._state if self._state is not None else LimiterState()

    def _wait_ms(
        self, decision: PermitDecision, state: LimiterState, now_ms: int, deadline: float
    ) -> int:
        """How long to sleep before the next attempt, or raise when that passes the deadline."""
        if decision.reason in _DAILY:
            today = current_day(state, now_ms, self.config.zone)
            raise DailyQuotaExhausted(
                f"Marketo daily budget spent ({decision.reason.value})",
                resumes_at=next_midnight(today, self.config.zone),
                retry_after_seconds=decision.wait_ms / 1000,
            )
        if decision.reason is PermitReason.IN_FLIGHT:  # a release may come any moment: look again
            wait_ms = self._pacer.poll_wait_ms(decision.wait_ms)
            self._check_deadline(deadline, wait_ms, decision.reason)
            return wait_ms
        self._check_deadline(deadline, decision.wait_ms, decision.reason)
        paced = self._pacer.rate_wait_ms(state, now_ms, decision.wait_ms)
        left_ms = int((deadline - self._monotonic()) * 1000)  # spreading never costs the deadline
        return max(decision.wait_ms, min(paced, left_ms))

    def _check_deadline(
        self, deadline: float, wait_ms: int, reason: PermitReason = PermitReason.RATE
    ) -> None:
        if self._monotonic() + wait_ms / 1000 > deadline:
            raise BudgetExhausted(
                f"no Marketo permit before the deadline ({reason.value})",
                retry_after_seconds=max(wait_ms, self.config.poll_ms) / 1000,
            )


def _old_item(exc: Exception) -> Item | None:
    """The item a failed conditional write returned (ReturnValuesOnConditionCheckFailure)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        item = response.get("Item")
        if isinstance(item, dict):
            return item
    return None
