"""Visitors and the leads a lookup found → the writes worth queueing, and what was spared."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from leadsync.mapping.fieldmap import FieldMap
from leadsync.marketo.models import Lead
from leadsync.models import Visitor
from leadsync.sync.fetch.decide import UPDATED_AT, Action, candidate, decide
from leadsync.sync.messages import SyncRecord, keeps_email


@dataclass(frozen=True)
class SyncPlan:
    records: list[SyncRecord] = field(default_factory=list)
    creates: int = 0
    updates: int = 0
    unchanged: int = 0
    # existing leads where a policy kept at least one Marketo value that differs from the chat's
    protected_kept: int = 0
    # e-mails Marketo already holds more than one lead for (the oldest lead is the one kept up)
    duplicate_leads: int = 0


def lookup_fields(fmap: FieldMap) -> list[str]:
    """What a lookup asks for: the mapped fields and the lead's last update."""
    return [*fmap.names, UPDATED_AT]


def chosen_lead(leads: Sequence[Lead]) -> Lead | None:
    """With duplicates in Marketo, the oldest lead (lowest id) is the one kept up to date."""
    return min(leads, key=lambda lead: lead.id) if leads else None


def plan_writes(
    visitors: Sequence[Visitor], found: Mapping[str, Sequence[Lead]], fmap: FieldMap
) -> SyncPlan:
    records: list[SyncRecord] = []
    creates = updates = unchanged = protected = duplicates = 0
    for visitor in visitors:
        leads = found.get(visitor.email, ())
        duplicates += len(leads) > 1
        lead = chosen_lead(leads)
        decision = decide(
            candidate(visitor, fmap),
            None if lead is None else (lead.id, lead.fields),
            fmap,
            visitor.last_chat_at,
        )
        protected += bool(decision.protected)
        if decision.action is Action.UNCHANGED:
            unchanged += 1
            continue
        creates += decision.action is Action.CREATE
        updates += decision.action is Action.UPDATE
        record = SyncRecord(
            action="create" if decision.action is Action.CREATE else "update",
            email=visitor.email,
            lead_id=decision.lead_id,
            fields=decision.fields,
            last_chat_at=visitor.last_chat_at,
            chat_ids=visitor.chat_ids,
        )
        if decision.action is Action.UPDATE and len(leads) == 1 and keeps_email(record):
            record = record.model_copy(update={"by_email": True})
        records.append(record)
    return SyncPlan(records, creates, updates, unchanged, protected, duplicates)
