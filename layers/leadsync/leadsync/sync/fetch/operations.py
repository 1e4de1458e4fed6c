"""The queue messages beyond lead writes: list membership, deletes, and e-mail changes.

- Lists: each visitor's lists come from the list rules; what leadsync last set for each lead
  is known from the state table (a lead about to be created is in none). Only changes cost a
  call: per list, removals then additions, one message per ≤300 leads (marketo_calls). A lead the
  run creates is named by its e-mail (`pending_emails`) and its create announces the id.
- Deletes: every lead Marketo holds for an erased e-mail, ≤300 ids a message; an e-mail
  without a lead costs nothing.
- E-mail changes: the lead of the old address takes the new one (`email` set on its update)
  rather than a second lead being created.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from leadsync.erasure.deletes import DeletePlan
from leadsync.lists.rules import ListRules, desired_lists
from leadsync.marketo.models import Lead
from leadsync.models import Visitor
from leadsync.sync.fetch.batching import new_correlation_id
from leadsync.sync.fetch.marketo_calls import LeadKey, ListChange, list_calls
from leadsync.sync.fetch.writes import chosen_lead
from leadsync.sync.messages import DeleteOperation, ListOperation, SyncBatch, SyncRecord


def lead_keys(
    visitors: Sequence[Visitor], found: Mapping[str, Sequence[Lead]]
) -> dict[str, LeadKey]:
    """Each visitor's lead: its id when Marketo holds it, else its e-mail (created this run)."""
    keys: dict[str, LeadKey] = {}
    for visitor in visitors:
        lead = chosen_lead(found.get(visitor.email, ()))
        keys[visitor.email] = lead.id if lead is not None else visitor.email
    return keys


def list_changes_for(
    visitors: Sequence[Visitor],
    keys: Mapping[str, LeadKey],
    known: Mapping[int, frozenset[int]],
    rules: ListRules,
) -> list[ListChange]:
    """Per managed list, the leads to take out and to put in (known ids first, in order)."""
    managed = sorted(rules.list_ids)
    removes: dict[int, dict[LeadKey, None]] = {list_id: {} for list_id in managed}
    adds: dict[int, dict[LeadKey, None]] = {list_id: {} for list_id in managed}
    for visitor in visitors:
        key = keys[visitor.email]
        want = desired_lists(visitor, rules)
        have = known.get(key, frozenset()) if isinstance(key, int) else frozenset()
        for list_id in managed:
            if list_id in want and list_id not in have:
                adds[list_id][key] = None
            elif list_id in have and list_id not in want:
                removes[list_id][key] = None
    return [
        ListChange(list_id, tuple(removes[list_id]), tuple(adds[list_id]))
        for list_id in managed
        if removes[list_id] or adds[list_id]
    ]


def list_batches(
    changes: Iterable[ListChange], *, created_at: datetime, max_ids: int = 300
) -> tuple[list[SyncBatch], set[str]]:
    """One message per list call, and the e-mails whose creates must announce their id."""
    batches: list[SyncBatch] = []
    pending: set[str] = set()
    for call in list_calls(changes, max_ids=max_ids):
        ids = [key for key in call.lead_keys if isinstance(key, int)]
        emails = [key for key in call.lead_keys if isinstance(key, str)]
        pending.update(emails)
        batches.append(
            SyncBatch(
                correlation_id=new_correlation_id(),
                created_at=created_at,
                list_operation=ListOperation(
                    list_id=call.list_id,
                    action=call.action,
                    lead_ids=ids,
                    pending_emails=emails,
                ),
            )
        )
    return batches, pending


def announcing(records: Sequence[SyncRecord], emails: set[str]) -> list[SyncRecord]:
    """The records with `announce` set on the creates list operations wait for."""
    return [
        record.model_copy(update={"announce": True})
        if record.action == "create" and record.email in emails
        else record
        for record in records
    ]


def with_renames(
    records: Sequence[SyncRecord], renames: Mapping[int, str], *, chat_ids: Mapping[str, list[str]]
) -> list[SyncRecord]:
    """Updates of renamed leads set the new address; a renamed lead with nothing else to
    change still gets its update."""
    out: list[SyncRecord] = []
    done: set[int] = set()
    for record in records:
        lead_id = record.lead_id
        if record.action == "update" and lead_id is not None and lead_id in renames:
            new = renames[lead_id]
            renamed = {"fields": {**record.fields, "email": new}, "by_email": False}
            out.append(record.model_copy(update=renamed))
            done.add(lead_id)
        else:
            out.append(record)
    for lead_id, new in renames.items():
        if lead_id not in done:
            out.append(
                SyncRecord(
                    action="update",
                    email=new,
                    lead_id=lead_id,
                    fields={"email": new},
                    chat_ids=chat_ids.get(new, []),
                )
            )
    return out


def delete_batches(plan: DeletePlan, *, created_at: datetime) -> list[SyncBatch]:
    by_id = {
        lead_id: erasure.fingerprint for erasure in plan.erasures for lead_id in erasure.lead_ids
    }
    return [
        SyncBatch(
            correlation_id=new_correlation_id(),
            created_at=created_at,
            delete=DeleteOperation(
                lead_ids=call,
                references=sorted({by_id[lead_id] for lead_id in call}),
            ),
        )
        for call in plan.calls
    ]
