"""A bulk file is decided again before it goes when its leads may have moved on.

An import is an insert-or-update by e-mail: Marketo's bulk API has no create-only mode and
no field policies, so it writes what the fetch decided when it staged the file. Two things
can make that stale:

- it goes again after Marketo failed its import: the REST path or a webhook may have
  written any of its leads meanwhile. The whole file is decided again.
- otherwise (on time, or after a wait: a slow fetch, Marketo's import queue full, a killed
  submit), leadsync's own lanes may have written some of its leads after the fetch began
  (the priority lane served a visitor's webhook, a rerouted job's records were written):
  the write ledger says which, and only those are looked up and decided again. This costs
  no Marketo call when nothing moved, so a file of 100,000 records that waited still goes.

Decided again means as the upload does for a message delivered again, under the same field
policies: a lead now found is updated, not created; what is already there is left out; a
value a policy keeps (an older last-chat time, a smaller count, a lead source another
system set) is not written.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from leadsync.bulk.jobs import BulkJob
from leadsync.bulk.ports import RecentWrites
from leadsync.mapping.fieldmap import FieldMap
from leadsync.ports import LeadLookup
from leadsync.sync.fetch.decide import Action, decide
from leadsync.sync.fetch.writes import chosen_lead, lookup_fields
from leadsync.sync.messages import SyncRecord


def late(job: BulkJob) -> bool:
    """The file goes again after Marketo failed its import: decided again whole. A file
    that merely waited (a slow fetch, Marketo's queue full, a killed submit) is checked
    against the write ledger like any other."""
    return job.submissions > 0


def redecide(records: Sequence[SyncRecord], lookup: LeadLookup, fmap: FieldMap) -> list[SyncRecord]:
    """The records as they would be decided now; those with nothing left to write dropped."""
    found = lookup.lookup_by_email([r.email for r in records], lookup_fields(fmap))
    out: list[SyncRecord] = []
    for record in records:
        lead = chosen_lead(found.get(record.email, []))
        if lead is None:
            out.append(record)  # still to create
            continue
        decision = decide(record.fields, (lead.id, lead.fields), fmap, record.last_chat_at)
        if decision.action is Action.UNCHANGED:
            continue
        # the import writes by e-mail (its own cell); the rest is what is decided now
        update = {"action": "update", "lead_id": lead.id, "fields": decision.fields}
        out.append(SyncRecord.model_validate({**record.model_dump(), **update}))
    return out


def written_since(records: Sequence[SyncRecord], ledger: RecentWrites, since: datetime) -> set[str]:
    """The e-mails of `records` leadsync wrote to after `since` (the fetch's start)."""
    written = ledger.written([record.email for record in records])
    return {email for email, entry in written.items() if entry.at > since}


def redecide_some(
    records: Sequence[SyncRecord], emails: set[str], lookup: LeadLookup, fmap: FieldMap
) -> list[SyncRecord]:
    """`records` with those of `emails` decided again, in their order."""
    again = {r.email: r for r in redecide([r for r in records if r.email in emails], lookup, fmap)}
    return [again.get(r.email) or r for r in records if r.email not in emails or r.email in again]
