"""Records decided again, under the same field policies, against what the lead holds now:
before any write on a delivery that may repeat work already done, for a record whose lead
another path wrote since it was decided (the write ledger), and for a create that met an
existing lead (1005)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from leadsync.sync.fetch.decide import Action, decide
from leadsync.sync.fetch.writes import chosen_lead, lookup_fields
from leadsync.sync.messages import keeps_email
from leadsync.sync.upload.ports import WriteLedger
from leadsync.sync.upload.state import UploadRun


def recheck(run: UploadRun, only: Sequence[int] | None = None) -> None:
    """Decide every record (or those of `only`) again against the leads as they are now,
    before any write, so a delivery that repeats work already done writes nothing twice."""
    indexes = list(run.open) if only is None else [i for i in only if i in run.open]
    if not indexes:
        return
    emails = [run.open[i].email for i in indexes]
    found = run.ports.marketo.lookup_by_email(emails, lookup_fields(run.fmap))
    for i in indexes:
        record = run.open[i]
        lead = chosen_lead(found.get(record.email, []))
        if lead is None:
            continue  # not there: a create still to make, or an update that will say so
        if record.action == "create" and record.announce:
            run.announced[record.email] = lead.id  # made by an earlier delivery
        decision = decide(record.fields, (lead.id, lead.fields), run.fmap, record.last_chat_at)
        if decision.action is Action.UNCHANGED:
            run.settle(i, "unchanged")
            continue
        update = record.model_copy(
            update={"action": "update", "lead_id": lead.id, "fields": decision.fields}
        )
        sole = len(found.get(record.email, [])) == 1
        run.open[i] = update.model_copy(update={"by_email": sole and keeps_email(update)})


def leave_out_written(run: UploadRun, ledger: WriteLedger, decided_at: datetime) -> None:
    """Leave out what another path (a webhook, another run) wrote to the lead since these
    records were decided: the same change is never written twice."""
    if not run.open:
        return
    recent = ledger.written([record.email for record in run.open.values()])
    moved_on: list[int] = []
    for i in list(run.open):
        record = run.open[i]
        written = recent.get(record.email)
        if written is None or written.at < decided_at:
            continue
        if any(written.differs(k, v) for k, v in record.fields.items() if k != "email"):
            # other values of these fields went to the lead since this record was decided
            # (a newer chat, or an older one): which is newer, only the lead can say
            moved_on.append(i)
            continue
        left = {k: v for k, v in record.fields.items() if not written.holds(k, v)}
        if not left:
            run.settle(i, "unchanged")
            run.tally("written_elsewhere")
        elif record.action == "update" and (set(left) - {"email"}):
            # the lead's key stays in a write by e-mail
            keep = {**left, "email": record.fields["email"]} if "email" in record.fields else left
            run.open[i] = record.model_copy(update={"fields": keep})
    if moved_on:
        recheck(run, moved_on)


def redecide(run: UploadRun, indexes: list[int]) -> list[int]:
    """The lead exists after all: diff against it as it is now, under the same policies;
    returns the records that became updates by id."""
    emails = [run.open[i].email for i in indexes]
    found = run.ports.marketo.lookup_by_email(emails, lookup_fields(run.fmap))
    updates: list[int] = []
    for i in indexes:
        record = run.open[i]
        lead = chosen_lead(found.get(record.email, []))
        if lead is None:  # gone again (deleted meanwhile): try the whole record later
            run.later[i] = run.open.pop(i)
            continue
        if record.announce:
            run.announced[record.email] = lead.id
        decision = decide(record.fields, (lead.id, lead.fields), run.fmap, record.last_chat_at)
        if decision.protected:
            run.tally("protected_kept")
        if decision.action is Action.UNCHANGED:
            run.settle(i, "unchanged")
            continue
        run.open[i] = record.model_copy(
            update={"action": "update", "lead_id": lead.id, "fields": decision.fields}
        )
        updates.append(i)
    return updates
