"""What the fetch reads, looks up and writes with, for the hourly function and for the
commands that run its logic (`leadsync plan`, `leadsync backfill`): its settings, the list
rules, erasures and e-mail changes, the bulk route, the schema gate; and one hourly fetch."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING

from leadsync.adapters.queue import SqsQueue
from leadsync.adapters.reread import DynamoDBRereads
from leadsync.adapters.state import StateStore
from leadsync.adapters.stats import DailyStats
from leadsync.limiter.usage import InstanceUsageSync
from leadsync.marketo.client import MarketoClient
from leadsync.runtime import metrics
from leadsync.runtime.config import BulkStagingEnv, FetchEnv, load
from leadsync.runtime.secrets import load_credentials
from leadsync.runtime.wiring.clients import fetch_clients, schema_gate
from leadsync.runtime.wiring.deadline import InvocationDeadline
from leadsync.runtime.wiring.meter import CallMeter
from leadsync.sync.fetch import run as fetch

if TYPE_CHECKING:
    from leadsync.bulk.choice import BulkRoute
    from leadsync.bulk.schedule import BulkSettings
    from leadsync.lists.rules import ListRules
    from leadsync.sync.fetch.activities import ActivityRoute
    from leadsync.sync.fetch.run import FetchSettings
    from leadsync.sync.fetch.summary import FetchSummary
    from leadsync.sync.fetch.whole import WholeSync


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
    env: FetchEnv,
    environ: Mapping[str, str] | None = None,
    *,
    client: MarketoClient | None = None,
    erasure_visibility_s: int = 1000,
    dry: bool = False,
) -> WholeSync:
    """Lists, erasures, e-mail changes and the bulk route, as configured (the bulk route's
    settings from `environ`, the process's environment by default; `dry`: it stages
    nothing). Erasure requests taken from the queue stay hidden `erasure_visibility_s`
    (longer than a fetch runs) until confirmed."""
    from leadsync.adapters.erasures import ErasureQueue, QueueInbox
    from leadsync.adapters.identities import IdentityStore
    from leadsync.adapters.leads import DynamoDBLeadDirectory
    from leadsync.erasure.chats import ErasureMarkers
    from leadsync.sync.fetch.whole import WholeSync

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
        bulk=bulk_route(
            load(BulkStagingEnv, environ),
            env.state_table,
            environ,
            per_call=env.marketo_records_per_call,
            dry=dry,
        ),
        activities=activity_route(env),
    )


def activity_route(env: FetchEnv) -> ActivityRoute | None:
    """The activity map and the ledger of the chats Marketo holds; None when chat activities
    are off."""
    from leadsync.activities.config import default_activity_map
    from leadsync.adapters.activity_ledger import DynamoDBActivityLedger
    from leadsync.sync.fetch.activities import ActivityRoute

    if not env.chat_activities:
        return None
    return ActivityRoute(default_activity_map(), DynamoDBActivityLedger(env.state_table))


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


def run_fetch(env: FetchEnv, deadline: InvocationDeadline) -> FetchSummary:
    """One hourly fetch, within the invocation's `deadline`: the instance's usage read when
    it is this copy's turn, the run, its metrics, and its Marketo calls counted."""
    clients = fetch_clients(env, load_credentials(env.credentials_secret), deadline)
    marketo = clients.marketo
    stats = DailyStats(env.state_table, zone=env.marketo_quota_timezone)
    meter = CallMeter(marketo, stats, env.marketo_quota_timezone, limiter=clients.limiter)
    with meter.counting():
        try:
            InstanceUsageSync(clients.limiter, lambda: marketo.usage_today().total).maybe_sync()
            state = StateStore(env.state_table, on_errors=metrics.emit_errors)
            summary = fetch.run(
                source=clients.source,
                state=state,
                queue=SqsQueue(env.sync_queue_url),
                destination=clients.destination,
                settings=fetch_settings(env),
                stats=stats,
                whole=whole_sync(env, client=marketo),
                schema=schema_gate(marketo, env.state_table, state),
                rereads=DynamoDBRereads(env.state_table),
            )
            metrics.emit_fetch(summary)
        finally:
            clients.close()
    return summary
