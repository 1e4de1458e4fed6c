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

from leadsync.limiter.config import lane_config
from leadsync.limiter.dynamodb import DynamoDBLimiter
from leadsync.marketo.client import MarketoClient
from leadsync.marketo.config import MarketoClientConfig, MarketoEndpoints
from leadsync.runtime.config import BulkEnv, BulkStagingEnv, FetchEnv, MarketoLimits
from leadsync.runtime.secrets import Credentials

if TYPE_CHECKING:
    from leadsync.bulk.choice import BulkRoute
    from leadsync.bulk.schedule import BulkSettings
    from leadsync.lists.rules import ListRules
    from leadsync.ports import ErrorSink
    from leadsync.readiness.gate import SchemaGate
    from leadsync.sync.fetch.run import FetchSettings, WholeSync


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
    config, name = lane_config(environ or os.environ)
    limiter = DynamoDBLimiter(state_table, config, name=name)
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


def schema_gate(client: MarketoClient, state_table: str, errors: ErrorSink) -> SchemaGate:
    """The check the fetch and the uploads make before they write: the field map's fields
    exist on the instance and fit what leadsync writes (described at most once an hour)."""
    from leadsync.adapters.schema_verdict import SchemaVerdicts
    from leadsync.mapping.fieldmap import default_field_map
    from leadsync.readiness.gate import SchemaGate

    return SchemaGate(default_field_map(), client.lead_fields, SchemaVerdicts(state_table), errors)


def call_counters(used: int, at: datetime, zone: ZoneInfo) -> dict[str, int]:
    """Daily counters for `used` Marketo calls made around `at`: the day's total and the
    hour's (in the quota's time zone), from which the digest names the busiest hour."""
    hour = at.astimezone(zone).hour
    return {"marketo_calls": used, f"marketo_calls_hour_{hour:02d}": used}


def fetch_settings(env: FetchEnv) -> FetchSettings:
    from leadsync.mapping.fieldmap import default_field_map
    from leadsync.sync.fetch.batching import BatchLimits
    from leadsync.sync.fetch.run import FetchSettings

    return FetchSettings(
        limits=BatchLimits.for_queue(env.marketo_records_per_call, env.marketo_max_body_bytes),
        overlap=timedelta(minutes=env.fetch_overlap_minutes),
        max_window=timedelta(hours=env.fetch_max_window_hours),
        first_start=env.fetch_start,
        field_map=default_field_map(),
        combine_writes=env.combined_write_window_seconds > 0,
    )


def list_rules(client: MarketoClient | None = None) -> ListRules:
    """The list rules, each list named by name given its id (one Marketo call, only when a
    rule names a list by name; a missing or ambiguous name stops the run)."""
    from leadsync.lists.rules import default_list_rules

    rules = default_list_rules()
    if not rules.unresolved or client is None:
        return rules
    found: dict[str, list[int]] = {}
    for item in client.static_lists(rules.unresolved):
        found.setdefault(item.name, []).append(item.id)
    return rules.resolved({name: ids[0] for name, ids in found.items() if len(ids) == 1})


def whole_sync(
    env: FetchEnv, *, erasure_visibility_s: int = 1000, client: MarketoClient | None = None
) -> WholeSync:
    """Lists, erasures and e-mail changes, as configured. Erasure requests taken from the
    queue stay hidden `erasure_visibility_s` (longer than a fetch runs) until confirmed."""
    from leadsync.adapters.erasures import ErasureQueue, QueueInbox
    from leadsync.adapters.identities import IdentityStore
    from leadsync.adapters.leads import DynamoDBLeadDirectory
    from leadsync.erasure.deletes import ErasureMarkers
    from leadsync.sync.fetch.run import WholeSync

    rules = list_rules(client)
    inbox = (
        QueueInbox(ErasureQueue(env.erasure_queue_url), visibility_seconds=erasure_visibility_s)
        if env.erasure_queue_url
        else None
    )
    return WholeSync(
        lists=rules if rules.list_ids else None,
        memberships=DynamoDBLeadDirectory(env.state_table) if rules.list_ids else None,
        identities=IdentityStore(env.state_table),
        erasures=inbox,
        erasure_markers=ErasureMarkers.of(env.erasure_session_field, env.erasure_tags),
    )


def bulk_settings(env: BulkEnv, staging: BulkStagingEnv | None = None) -> BulkSettings:
    """The bulk path's settings from the bulk function's environment (and the staging
    side's file limit, when given)."""
    from leadsync.bulk.schedule import BulkSettings

    return BulkSettings(
        max_file_bytes=(staging or BulkStagingEnv()).bulk_max_file_bytes,
        running_slots=env.bulk_running_slots,
        queued_slots=env.bulk_queued_slots,
        poll_delays=tuple(env.bulk_poll_delays_seconds),
        stuck_after=timedelta(minutes=env.bulk_stuck_after_minutes),
        give_up_after=timedelta(hours=env.bulk_give_up_after_hours),
        max_submissions=env.bulk_max_submissions,
        warnings_are_failures=env.bulk_warnings_are_failures,
    )


def staging_settings(staging: BulkStagingEnv) -> BulkSettings:
    """What staging needs of the settings: the file limit (the rest is the bulk
    function's)."""
    from leadsync.bulk.schedule import BulkSettings

    return BulkSettings(max_file_bytes=staging.bulk_max_file_bytes)


def bulk_route(
    staging: BulkStagingEnv,
    state_table: str,
    environ: Mapping[str, str] | None = None,
    *,
    per_call: int = 300,
    dry: bool = False,
) -> BulkRoute | None:
    """The fetch's bulk path as configured (None when off): staged files in the bucket,
    jobs in the state table, submit messages on the bulk queue; the day's budget left is
    the limiter's own readout; REST's cost priced at `per_call` records a call (the
    stack's MarketoRecordsPerCall)."""
    if not staging.bulk_enabled:
        return None
    from leadsync.adapters.bulk import DynamoDBJobStore, S3StagedFiles, SqsBulkSender
    from leadsync.bulk.choice import BulkRoute
    from leadsync.limiter.readout import LanesReadout

    bucket, queue = staging.bulk_bucket or "", staging.bulk_queue_url or ""
    readout = LanesReadout(state_table, environ if environ is not None else os.environ)
    return BulkRoute(
        files=S3StagedFiles(bucket),
        jobs=DynamoDBJobStore(state_table),
        queue=SqsBulkSender(queue),
        settings=staging_settings(staging),
        threshold=staging.bulk_threshold_records,
        quota_left=lambda: readout.read().left,
        per_call=per_call,
        dry=dry,
    )
