"""Building the Marketo client a function uses: credentials, the shared limiter, a deadline.

Kept per execution environment (the token and the HTTP connections survive between
invocations); the deadline follows whichever invocation is running.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from leadsync.config import FetchEnv, MarketoLimits
from leadsync.limiter.config import LimiterConfig
from leadsync.limiter.dynamodb import DynamoDBLimiter
from leadsync.marketo.client import MarketoClient
from leadsync.marketo.config import MarketoClientConfig, MarketoEndpoints
from leadsync.secrets import Credentials

if TYPE_CHECKING:
    from leadsync.fetch import FetchSettings, WholeSync


class HasRemainingTime(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


class InvocationDeadline:
    """How long a Marketo call may wait for a permit: a short wait, inside the invocation's
    remaining time less a margin for handing the rest back to the queue."""

    def __init__(
        self,
        *,
        margin_s: float = 15.0,
        max_wait_s: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._margin = margin_s
        self._max_wait = max_wait_s
        self._monotonic = monotonic
        self._ends: float | None = None

    def start(self, context: HasRemainingTime) -> None:
        self._ends = self._monotonic() + context.get_remaining_time_in_millis() / 1000

    def remaining_s(self) -> float:
        """Seconds left for work before the margin; unbounded outside an invocation."""
        if self._ends is None:
            return float("inf")
        return self._ends - self._margin - self._monotonic()

    def __call__(self) -> float:
        now = self._monotonic()
        latest = now + self._max_wait
        if self._ends is None:
            return latest
        return min(latest, self._ends - self._margin)


def marketo_client(
    credentials: Credentials,
    limits: MarketoLimits,
    state_table: str,
    deadline: Callable[[], float],
    environ: Mapping[str, str] | None = None,
) -> tuple[MarketoClient, DynamoDBLimiter]:
    limiter = DynamoDBLimiter(state_table, LimiterConfig.from_env(environ or os.environ))
    client = MarketoClient(
        MarketoEndpoints(str(credentials.marketo_rest_url), str(credentials.marketo_identity_url)),
        credentials.marketo_client_id,
        credentials.marketo_client_secret,
        limiter,
        config=MarketoClientConfig(
            records_per_call=limits.marketo_records_per_call,
            max_body_bytes=limits.marketo_max_body_bytes,
            quota_timezone=limits.marketo_quota_timezone,
            rate_window_s=float(limits.marketo_window_seconds),
        ),
        deadline=deadline,
    )
    return client, limiter


def call_counters(used: int, at: datetime, zone: ZoneInfo) -> dict[str, int]:
    """Daily counters for `used` Marketo calls made around `at`: the day's total and the
    hour's (in the quota's time zone), from which the digest names the busiest hour."""
    hour = at.astimezone(zone).hour
    return {"marketo_calls": used, f"marketo_calls_hour_{hour:02d}": used}


def fetch_settings(env: FetchEnv) -> FetchSettings:
    from leadsync.batching import BatchLimits
    from leadsync.fetch import FetchSettings
    from leadsync.fieldmap import default_field_map

    return FetchSettings(
        limits=BatchLimits.for_queue(env.marketo_records_per_call, env.marketo_max_body_bytes),
        overlap=timedelta(minutes=env.fetch_overlap_minutes),
        max_window=timedelta(hours=env.fetch_max_window_hours),
        first_start=env.fetch_start,
        field_map=default_field_map(),
        combine_writes=env.combined_write_window_seconds > 0,
    )


def whole_sync(env: FetchEnv, *, erasure_visibility_s: int = 1000) -> WholeSync:
    """Lists, erasures and e-mail changes, as configured. Erasure requests taken from the
    queue stay hidden `erasure_visibility_s` (longer than a fetch runs) until confirmed."""
    from leadsync.adapters.erasures import ErasureQueue, QueueInbox
    from leadsync.adapters.identities import IdentityStore
    from leadsync.adapters.leads import LeadDirectory
    from leadsync.erasure import ErasureMarkers
    from leadsync.fetch import WholeSync
    from leadsync.lists import default_list_rules

    rules = default_list_rules()
    inbox = (
        QueueInbox(ErasureQueue(env.erasure_queue_url), visibility_seconds=erasure_visibility_s)
        if env.erasure_queue_url
        else None
    )
    return WholeSync(
        lists=rules if rules.list_ids else None,
        memberships=LeadDirectory(env.state_table) if rules.list_ids else None,
        identities=IdentityStore(env.state_table),
        erasures=inbox,
        erasure_markers=ErasureMarkers.of(env.erasure_session_field, env.erasure_tags),
    )
