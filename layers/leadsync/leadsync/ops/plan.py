"""`leadsync plan`: what the next run would do and what it would cost, writing nothing.

The fetch runs as it does every hour (the same window, mapping, lookups and decisions) but
with sinks that keep instead of writing: no message is queued, no error stored, the mark,
the request to read chats again and the remembered identities stay, and erasure requests are
read without being confirmed. The lookups are real Marketo calls (a plan cannot know what
Marketo holds otherwise); the report counts them apart from what the run would add.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from leadsync.erasure.request import ErasureRequest
from leadsync.ops.stack import FetchSide
from leadsync.ports import LeadLookup
from leadsync.runtime.clock import Clock, utc_now
from leadsync.sync.failures import ErrorEntry
from leadsync.sync.fetch.marketo_calls import CallPlan
from leadsync.sync.fetch.ports import (
    ArchiveSource,
    ErasureInbox,
    FetchState,
    IdentityMemory,
    RereadRequests,
)
from leadsync.sync.fetch.reread import Reread
from leadsync.sync.fetch.run import FetchSettings, run
from leadsync.sync.fetch.summary import FetchSummary
from leadsync.sync.fetch.whole import WholeSync
from leadsync.sync.messages import MAX_ACTIVITIES_PER_CALL, SyncBatch


@dataclass
class _Kept:
    """The sinks of a plan: whatever the run would write is kept here instead."""

    state: FetchState
    batches: list[SyncBatch] = field(default_factory=list)
    errors: list[ErrorEntry] = field(default_factory=list)

    # FetchState
    def get_high_water_mark(self, source: str = "livechat") -> datetime | None:
        return self.state.get_high_water_mark(source)

    def put_high_water_mark(self, mark: datetime, source: str = "livechat") -> None:
        return None

    def record_errors(self, entries: Iterable[ErrorEntry]) -> int:
        added = list(entries)
        self.errors.extend(added)
        return len(added)

    # BatchSink
    def send_batches(self, batches: Sequence[SyncBatch]) -> int:
        self.batches.extend(batches)
        return len(batches)


@dataclass
class _ReadOnlyIdentities:
    inner: IdentityMemory

    def get_many(self, customer_ids: Iterable[str]) -> dict[str, str]:
        return self.inner.get_many(customer_ids)

    def put_many(self, identities: Mapping[str, str]) -> int:
        return 0


@dataclass
class _Unconfirmed:
    inner: ErasureInbox

    def take(self) -> list[ErasureRequest]:
        return self.inner.take()

    def confirm(self) -> None:
        return None


@dataclass
class _Unsettled:
    """The request to read chats again, read and left as it is."""

    inner: RereadRequests

    def pending(self) -> Reread | None:
        return self.inner.pending()

    def clear(self, read: Reread) -> bool:
        return True

    def advance(self, read: Reread, to: datetime) -> bool:
        return True


@dataclass(frozen=True)
class Plan:
    summary: FetchSummary
    batches: list[SyncBatch]
    errors: list[ErrorEntry]
    lookups: int  # Marketo calls the plan itself made to read the leads
    combine: bool = True  # creates and by-e-mail updates of a message in one call

    @property
    def cost(self) -> CallPlan:
        """The calls the run would add to the lookups: per message of records, one
        createOrUpdate for its creates and by-e-mail updates when it holds both, else a
        createOnly and an updateOnly for those it holds; one per list operation, one per
        delete, one per message of chat activities."""
        calls: Counter[str] = Counter()
        for batch in self.batches:
            calls.update(_calls_of(batch, self.combine))
        return CallPlan(lookup=self.lookups, **calls)


def _calls_of(batch: SyncBatch, combine: bool) -> list[str]:
    """The calls one message costs, by their names in CallPlan."""
    if batch.records:
        creates = any(r.action == "create" for r in batch.records)
        by_email = any(r.action == "update" and r.by_email for r in batch.records)
        by_id = any(r.action == "update" and not r.by_email for r in batch.records)
        if combine and creates and by_email:
            return ["write", "update"] if by_id else ["write"]
        calls = ["create"] if creates else []
        return [*calls, "update"] if by_email or by_id else calls
    if batch.list_operation is not None:
        return ["list_add" if batch.list_operation.action == "add" else "list_remove"]
    if batch.delete is not None:
        return ["delete"]
    if batch.activities is not None:
        return ["activities"]
    return []


def make_plan(
    *,
    source: ArchiveSource,
    state: FetchState,
    destination: LeadLookup,
    settings: FetchSettings,
    whole: WholeSync | None = None,
    lookups_made: Callable[[], int] | None = None,
    now: Clock = utc_now,
    rereads: RereadRequests | None = None,
) -> Plan:
    """Run the fetch with keeping sinks; `lookups_made()` says how many lookups it cost."""
    kept = _Kept(state)
    whole = whole or WholeSync()
    whole = replace(
        whole,
        identities=_ReadOnlyIdentities(whole.identities) if whole.identities else None,
        erasures=_Unconfirmed(whole.erasures) if whole.erasures else None,
        # the bulk path is chosen and priced, nothing staged
        bulk=replace(whole.bulk, dry=True) if whole.bulk else None,
    )
    summary = run(
        source=source,
        state=kept,
        queue=kept,
        destination=destination,
        settings=settings,
        now=now,
        whole=whole,
        rereads=_Unsettled(rereads) if rereads is not None else None,
    )
    made = lookups_made() if lookups_made is not None else 0
    return Plan(summary, kept.batches, kept.errors, made, combine=settings.combine_writes)


def describe(plan: Plan, *, quota_left: int | None = None) -> list[str]:
    """The plan as an operator reads it; e-mails never appear."""
    s = plan.summary
    creates = [r for b in plan.batches for r in b.records if r.action == "create"]
    updates = [r for b in plan.batches for r in b.records if r.action == "update"]
    by_field = Counter(name for r in updates for name in r.fields)
    lists: dict[tuple[int, str], int] = Counter()
    for batch in plan.batches:
        op = batch.list_operation
        if op is not None:
            lists[(op.list_id, op.action)] += len(op.lead_ids) + len(op.pending_emails)
    deleted = sum(len(b.delete.lead_ids) for b in plan.batches if b.delete is not None)
    rejects = Counter(e.reason for e in plan.errors)
    cost = plan.cost
    lines = [
        f"window: {s.since.isoformat()} to {s.until.isoformat()}",
        f"chats: {s.chats} read, {s.visitors} visitors, {s.rejected} rejected"
        + (f" ({', '.join(f'{n} {r}' for r, n in sorted(rejects.items()))})" if rejects else ""),
        f"creates: {len(creates)}",
        f"updates: {len(updates)}"
        + (
            " (" + ", ".join(f"{name} {n}" for name, n in sorted(by_field.items())) + ")"
            if by_field
            else ""
        ),
        f"unchanged: {s.unchanged}, protected values kept: {s.protected_kept}",
    ]
    for (list_id, action), count in sorted(lists.items()):
        lines.append(f"list {list_id}: {action} {count} lead(s)")
    lines.append(
        f"deletes: {deleted} lead(s) for {s.erasures} erasure request(s), "
        f"{s.erasures_not_found} not found (no call)"
    )
    if s.activities or s.activities_already_written:
        # one call carries at most 300 activities, whatever their leads
        least = -(-s.activities // MAX_ACTIVITIES_PER_CALL)
        lines.append(
            f"chat activities: {s.activities} in {cost.activities} call(s) (at least {least}); "
            f"{s.activities_already_written} already in Marketo (no call)"
        )
    if s.email_changes:
        lines.append(
            f"e-mail changes followed: {s.email_changes}; possible duplicates left for a "
            f"person: {s.possible_duplicates}"
        )
    lines += _cost_lines(s, cost, quota_left)
    lines.append(
        f"plan: creates={len(creates)} updates={len(updates)} "
        f"list_adds={sum(n for (_, a), n in lists.items() if a == 'add')} "
        f"list_removes={sum(n for (_, a), n in lists.items() if a == 'remove')} "
        f"deletes={deleted} rejected={s.rejected} calls={cost.total}"
    )
    return lines


def _cost_lines(s: FetchSummary, cost: CallPlan, quota_left: int | None) -> list[str]:
    """The calls by kind, the path they take, and the daily budget they leave."""
    run_calls = cost.total - cost.lookup
    lines = [
        f"calls: lookup {cost.lookup} (made by this plan), createOrUpdate {cost.write}, "
        f"createOnly {cost.create}, updateOnly {cost.update}, list add {cost.list_add}, "
        f"list remove {cost.list_remove}, delete {cost.delete}, activities {cost.activities}; "
        f"the run adds {run_calls}"
    ]
    if s.path_reason:
        lines.append(
            f"path: {s.path} ({s.path_reason}); record writes by REST {s.rest_write_calls} "
            f"call(s), by bulk import {s.bulk_write_calls} call(s)"
        )
        if s.path == "bulk":
            # the imports replace the REST writes counted above
            run_calls += s.bulk_write_calls - (cost.create + cost.update + cost.write)
            lines.append(f"the run adds {run_calls} call(s) by the bulk path")
    if quota_left is not None:
        lines.append(f"daily budget left after the run: {max(0, quota_left - run_calls)}")
    return lines


def command(args: argparse.Namespace) -> bool:
    """`leadsync plan`: print the next run's plan for the stack."""
    from leadsync.adapters.reread import DynamoDBRereads
    from leadsync.adapters.state import StateStore
    from leadsync.limiter.readout import LanesReadout
    from leadsync.runtime.wiring.fetch import fetch_settings, whole_sync

    fetch = FetchSide.of(args)
    env, variables, clients = fetch.env, fetch.variables, fetch.clients
    try:
        plan = make_plan(
            source=clients.source,
            state=StateStore(env.state_table),
            destination=clients.destination,
            settings=fetch_settings(env),
            whole=whole_sync(env, variables, erasure_visibility_s=30, dry=True),
            lookups_made=lambda: clients.marketo.calls["lookup"],
            rereads=DynamoDBRereads(env.state_table),
        )
    finally:
        clients.close()
    left = LanesReadout(env.state_table, variables).read().left
    print(f"plan: stack {args.stack}, nothing queued, stored or marked", flush=True)
    for line in describe(plan, quota_left=left):
        print(f"  {line}" if not line.startswith("plan:") else line)
    return True
