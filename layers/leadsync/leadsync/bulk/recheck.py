"""A bulk file submitted late is decided again first.

An import writes what the fetch decided when it staged the file. When the file reaches
Marketo much later (it was refused while Marketo's import queue was full, or its first
import failed and it goes again), the REST path or a webhook may have written newer values
to the same leads meanwhile: the import would put the older ones back. So a late file is
decided again against the leads as they are now, under the same field policies, as the
upload does for a message delivered again: what is already there is left out, and a value
a policy now keeps (an older last-chat time, a smaller count) is not written.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from leadsync.bulk.jobs import BulkJob
from leadsync.mapping.fieldmap import FieldMap
from leadsync.ports import LeadLookup
from leadsync.sync.fetch.decide import Action, decide
from leadsync.sync.fetch.writes import chosen_lead, lookup_fields
from leadsync.sync.messages import SyncRecord

# a file submitted within this long of being staged goes as it was decided (the fetch's
# combined-write window: how long a lookup is trusted)
DECIDED_FOR = timedelta(minutes=5)


def late(job: BulkJob, now: datetime, decided_for: timedelta = DECIDED_FOR) -> bool:
    return job.submissions > 0 or now - job.created_at > decided_for


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
        out.append(record.model_copy(update={"action": "update", "fields": decision.fields}))
    return out
