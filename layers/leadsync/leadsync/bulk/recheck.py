"""A bulk file leaves behind, before it goes, the leads leadsync's own lanes wrote since
it was decided.

An import is an insert-or-update by e-mail: Marketo's bulk API has no create-only mode and
no field policies, so it writes what the fetch decided when it staged the file. That goes
stale for a lead another of leadsync's lanes wrote after the fetch began: the priority lane
served a visitor's webhook, a rerouted job's records were written, the REST path wrote a
lead while the file waited (Marketo's import queue full, a killed submit, a failed import
that goes again). The write ledger says which leads; the file goes without them and they
take the REST path, where the upload decides each again against a fresh lookup under the
same field policies (a lead now found is updated, not created; what is there already is
left out; a value a policy keeps is not written).

This costs the file no Marketo call: nothing is looked up in the bulk step, so a file of
100,000 records that waited a day still goes when its slot comes, whatever is left of the
day's cap; the few leads handed over wait for the cap in the REST lane like any message.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from leadsync.bulk.ports import RecentWrites
from leadsync.sync.messages import SyncRecord


def written_since(records: Sequence[SyncRecord], ledger: RecentWrites, since: datetime) -> set[str]:
    """The e-mails of `records` leadsync wrote to after `since` (the fetch's start)."""
    written = ledger.written([record.email for record in records])
    return {email for email, entry in written.items() if entry.at > since}


def split(
    records: Sequence[SyncRecord], moved: set[str]
) -> tuple[list[SyncRecord], list[SyncRecord]]:
    """(what the file keeps, what goes to the REST path), each in the file's order."""
    kept = [record for record in records if record.email not in moved]
    handed = [record for record in records if record.email in moved]
    return kept, handed
