"""One window of chats read, mapped, looked up and decided, as messages ready for the queue.

Nothing is queued or stored here: the source is read, Marketo is looked up, the steps of
`whole` read what they need (and stage a large run's writes as bulk jobs), and the result is
what the run queues.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from leadsync.bulk.choice import Routed
from leadsync.mapping.fieldmap import default_field_map
from leadsync.mapping.livechat_to_visitor import MappingResult, map_entries
from leadsync.marketo.models import Lead
from leadsync.models import Visitor
from leadsync.ports import LeadLookup
from leadsync.sync.fetch.activities import ActivityPlan, announcing_activities, plan_activities
from leadsync.sync.fetch.batching import BatchLimits, BatchPlan, plan_batches, write_kind
from leadsync.sync.fetch.ports import ArchiveSource
from leadsync.sync.fetch.whole import (
    EmailMoves,
    Erasing,
    WholeSync,
    detect_moves,
    plan_erasures,
    plan_lists,
    route_bulk,
    take_erasures,
)
from leadsync.sync.fetch.writes import SyncPlan, lookup_fields, plan_writes
from leadsync.sync.messages import SyncBatch, SyncRecord

if TYPE_CHECKING:
    from leadsync.sync.fetch.run import FetchSettings

# how far past the window a chat's own time may be before it is not believed
SOURCE_CLOCK_SKEW = timedelta(hours=1)


@dataclass(frozen=True)
class Prepared:
    """One window ready for the queue: what was read, decided and packed."""

    since: datetime
    until: datetime
    started: datetime
    entries: list[Any]
    mapped: MappingResult
    # the lookup as Marketo answered it, before any e-mail change moved a lead
    found: Mapping[str, Sequence[Lead]]
    erasing: Erasing
    moves: EmailMoves
    writes: SyncPlan
    list_messages: list[SyncBatch]
    routed: Routed | None
    batches: BatchPlan
    activities: ActivityPlan


def prepare(
    source: ArchiveSource,
    destination: LeadLookup,
    whole: WholeSync,
    settings: FetchSettings,
    *,
    since: datetime,
    until: datetime,
    started: datetime,
) -> Prepared:
    """Read the (since, until] window, map its chats to visitors, decide each visitor's write
    against its lead, and pack the writes (and the list, delete and chat-activity messages)
    into messages."""
    entries = list(source.list_archives(since, until))
    mapped = map_entries(entries, not_after=until + SOURCE_CLOCK_SKEW)
    fmap = settings.field_map or default_field_map()
    limits, combine = settings.limits, settings.combine_writes
    requests = take_erasures(entries, whole, at=started)
    erased = {request.email for request in requests}
    # an erased visitor is deleted, never written again
    visitors = [visitor for visitor in mapped.visitors if visitor.email not in erased]
    moves = detect_moves(visitors, whole.identities)
    wanted = moves.lookup([v.email for v in visitors])
    wanted += [email for email in sorted(erased) if email not in set(wanted)]
    found = destination.lookup_by_email(wanted, lookup_fields(fmap))
    moves = moves.resolve(found, in_use=[v.email for v in visitors])
    after = moves.after(found)
    writes = plan_writes(visitors, after, fmap)
    records = moves.renamed(writes.records, visitors)
    list_messages, records = plan_lists(
        visitors, after, records, whole, created_at=started, max_ids=limits.max_records
    )
    erasing = plan_erasures(requests, found, max_per_call=limits.max_records, created_at=started)
    records, routed, activities = _route(
        entries, visitors, after, records, whole, settings, started
    )
    batches = _pack(records, limits, created_at=started, combine=combine)
    return Prepared(
        since,
        until,
        started,
        entries,
        mapped,
        found,
        erasing,
        moves,
        writes,
        list_messages,
        routed,
        batches,
        activities,
    )


def _route(
    entries: Sequence[Any],
    visitors: Sequence[Visitor],
    found: Mapping[str, Sequence[Lead]],
    records: list[SyncRecord],
    whole: WholeSync,
    settings: FetchSettings,
    started: datetime,
) -> tuple[list[SyncRecord], Routed | None, ActivityPlan]:
    """A large run's writes that an import can carry staged as bulk jobs; the chats' activity
    messages, those of imported leads apart (they find their leads by e-mail); the creates
    left to REST set to announce their lead ids to the activities waiting for them."""
    creates = {record.email for record in records if record.action == "create"}
    records, routed = route_bulk(records, whole, now=started, combine=settings.combine_writes)
    imported = frozenset(creates - {record.email for record in records})
    activities = plan_activities(
        entries,
        visitors,
        found,
        whole.activities,
        limits=settings.limits,
        created_at=started,
        imported=imported,
    )
    return announcing_activities(records, activities), routed, activities


def _pack(
    records: Sequence[SyncRecord], limits: BatchLimits, *, created_at: datetime, combine: bool
) -> BatchPlan:
    # each message one kind of write, so one Marketo call: creates (with the updates that
    # may go with them), then updates by id
    ordered = sorted(records, key=lambda record: write_kind(record, combine) == "update")
    return plan_batches(ordered, limits, created_at=created_at, combine=combine)
