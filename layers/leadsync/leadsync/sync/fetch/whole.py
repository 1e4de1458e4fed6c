"""What the sync does beyond lead writes, as steps of the fetch; each is off when its part of
`WholeSync` is left out.

- Erasures: requests from the run's chats (marked ones) and from the inbox. The erased
  visitors are not written; every lead Marketo holds for them is deleted, and the inbox is
  confirmed once those deletes are queued.
- E-mail changes: the address each customer had last time is remembered; a customer back
  with another address has its lead moved, never doubled (`email_changes`).
- Lists: list-membership messages from the list rules (`operations`); the creates they wait
  for announce their lead ids.
- Bulk: a large run's writes that an import can carry are staged as bulk jobs (`bulk/`).
- Activities: every chat of the run's visitors an activity on the lead, once (`activities`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from leadsync.bulk.choice import BulkRoute, Routed
from leadsync.erasure.chats import ErasureMarkers, erasures_from_chats
from leadsync.erasure.deletes import DeletePlan, plan_deletes
from leadsync.erasure.request import ErasureRequest, collapse
from leadsync.lists.rules import ListRules
from leadsync.marketo.models import Lead
from leadsync.models import Visitor
from leadsync.runtime.observability import get_logger
from leadsync.sync.fetch.activities import ActivityRoute
from leadsync.sync.fetch.email_changes import (
    EmailChange,
    EmailChangeDecision,
    detect_changes,
    found_after,
    lookup_emails,
    renames,
    resolve_email_changes,
)
from leadsync.sync.fetch.operations import (
    announcing,
    delete_batches,
    lead_keys,
    list_batches,
    list_changes_for,
    with_renames,
)
from leadsync.sync.fetch.ports import ErasureInbox, IdentityMemory, MembershipReader
from leadsync.sync.messages import SyncBatch, SyncRecord

Found = Mapping[str, Sequence[Lead]]


@dataclass(frozen=True)
class WholeSync:
    """What the sync does beyond lead writes; each part is off when left out."""

    lists: ListRules | None = None
    memberships: MembershipReader | None = None
    identities: IdentityMemory | None = None
    erasures: ErasureInbox | None = None
    erasure_markers: ErasureMarkers = field(default_factory=ErasureMarkers)
    # the bulk-import path for large runs; off when left out (every write by REST)
    bulk: BulkRoute | None = None
    # every chat an activity on its visitor's lead; off when left out
    activities: ActivityRoute | None = None


def take_erasures(
    entries: Sequence[Any], whole: WholeSync, *, at: datetime
) -> list[ErasureRequest]:
    """The run's erasure requests: its marked chats', and the inbox's, one per e-mail."""
    requests = erasures_from_chats(entries, whole.erasure_markers, requested_at=at)
    if whole.erasures is not None:
        requests = collapse([*requests, *whole.erasures.take()])
    return requests


@dataclass(frozen=True)
class Erasing:
    requests: list[ErasureRequest]
    deletes: DeletePlan
    messages: list[SyncBatch]


def plan_erasures(
    requests: list[ErasureRequest], found: Found, *, max_per_call: int, created_at: datetime
) -> Erasing:
    """The delete messages for every lead the lookup found for an erased e-mail."""
    deletes = plan_deletes(requests, found, max_per_call=max_per_call)
    return Erasing(requests, deletes, delete_batches(deletes, created_at=created_at))


def confirm_erasures(whole: WholeSync, erasing: Erasing, run_id: str) -> None:
    """Once the deletes are queued, the inbox lets its requests go."""
    if whole.erasures is not None:
        whole.erasures.confirm()  # their deletes are queued
    if erasing.deletes.erasures:
        get_logger().info("erasures planned", extra={"run_id": run_id, **erasing.deletes.summary()})


@dataclass(frozen=True)
class EmailMoves:
    """The run's (e-mail, customer id) pairs, the customers among them back with another
    address, and, once the lookup is in, what to do for each new address."""

    pairs: list[tuple[str, str]]
    changes: list[EmailChange]
    decisions: list[EmailChangeDecision] = field(default_factory=list)

    def lookup(self, emails: list[str]) -> list[str]:
        """The addresses to look up: the run's, then the old ones of the changes."""
        return lookup_emails(emails, self.changes)

    def resolve(self, found: Found, *, in_use: list[str]) -> EmailMoves:
        return replace(self, decisions=resolve_email_changes(self.changes, found, in_use=in_use))

    def after(self, found: Found) -> Found:
        """The lookup as the writes should see it: a renamed lead is its new address's."""
        return found_after(self.decisions, found) if self.decisions else found

    def renamed(self, records: list[SyncRecord], visitors: Sequence[Visitor]) -> list[SyncRecord]:
        chat_ids = {visitor.email: visitor.chat_ids for visitor in visitors}
        return with_renames(records, renames(self.decisions), chat_ids=chat_ids)


def detect_moves(visitors: Sequence[Visitor], identities: IdentityMemory | None) -> EmailMoves:
    """The customers whose address is not the one remembered for them."""
    pairs = [(v.email, v.customer_id) for v in visitors if v.customer_id]
    remembered = (
        identities.get_many({cid for _, cid in pairs}) if identities is not None and pairs else {}
    )
    return EmailMoves(pairs, detect_changes(pairs, remembered))


def remember_identities(whole: WholeSync, moves: EmailMoves, found: Found) -> None:
    """The address each customer has now, so that a change in a later run moves the lead (a
    lead created this run included); a change found in this run is remembered only once
    Marketo holds the new address, so until then each run sees it and moves it."""
    if whole.identities is None:
        return
    moving = {change.customer_id for change in moves.changes}
    held = {cid: email for email, cid in moves.pairs if cid not in moving or found.get(email)}
    if held:
        whole.identities.put_many(held)


def plan_lists(
    visitors: Sequence[Visitor],
    found: Found,
    records: list[SyncRecord],
    whole: WholeSync,
    *,
    created_at: datetime,
    max_ids: int,
) -> tuple[list[SyncBatch], list[SyncRecord]]:
    """The list-membership messages the list rules call for, and the records with the creates
    they wait for set to announce their lead ids."""
    if whole.lists is None or not whole.lists.list_ids:
        return [], records
    keys = lead_keys(visitors, found)
    ids = [key for key in keys.values() if isinstance(key, int)]
    known = (
        whole.memberships.memberships(ids, whole.lists.list_ids)
        if whole.memberships is not None and ids
        else {}
    )
    messages, pending = list_batches(
        list_changes_for(visitors, keys, known, whole.lists),
        created_at=created_at,
        max_ids=max_ids,
    )
    return messages, announcing(records, pending)


def route_bulk(
    records: list[SyncRecord], whole: WholeSync, *, now: datetime, combine: bool
) -> tuple[list[SyncRecord], Routed | None]:
    """A large run's writes that an import can carry staged as bulk jobs; returns the records
    left for the REST path, and the route taken."""
    routed = whole.bulk.route(records, now=now, combine=combine) if whole.bulk else None
    return (routed.rest if routed is not None else records), routed
