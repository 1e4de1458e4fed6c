"""The lead writes of one message, made so that they never duplicate a lead.

- A delivery that may repeat work already done decides every record again first, and what
  another path wrote since the records were decided is left out (`recheck`).
- Creates go out as createOnly, and only while this message holds the e-mail's create claim;
  a create whose e-mail another message holds waits (`UploadRun.later`). A createOnly that
  meets 1005 becomes an update, decided again against the lead as it is now.
- Updates go by lead id (updateOnly), which cannot create anything.
- With a fresh lookup, creates and by-e-mail updates share one createOrUpdate call by e-mail;
  a lead that appeared or vanished meanwhile is written all the same and reported as raced,
  and an e-mail that matches several leads (1007) is written by id after all.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from leadsync.marketo.models import RecordResult
from leadsync.sync.messages import SyncRecord
from leadsync.sync.upload.ports import ClaimOutcome
from leadsync.sync.upload.recheck import leave_out_written, recheck, redecide
from leadsync.sync.upload.state import UploadRun

ALREADY_EXISTS = "1005"
MANY_MATCH = "1007"


def write_records(run: UploadRun, holder: str, *, redelivered: bool) -> None:
    """The batch's records written; `holder` names this delivery for the create claims."""
    batch = run.batch
    looked = run.at - batch.created_at
    if redelivered or batch.attempts or batch.failures or batch.lookup_first:
        recheck(run)
        looked = timedelta(0)
    if run.ports.ledger is not None:
        leave_out_written(run, run.ports.ledger, run.at - looked)
    window = run.settings.combine_window
    _write(run, holder, combine=window > timedelta(0) and looked <= window)


def _write(run: UploadRun, holder: str, *, combine: bool) -> None:
    creates = [i for i, r in run.open.items() if r.action == "create"]
    updates = [i for i, r in run.open.items() if r.action == "update"]
    by_email = [i for i in updates if run.open[i].by_email]
    if combine and creates and by_email:
        # one call instead of two; alone, either kind is as cheap and safer on its own call
        updates = [i for i in updates if not run.open[i].by_email]
        updates += _create_or_update(run, creates, by_email, holder)
    elif creates:
        updates += _create(run, creates, holder)
    if updates:
        _update(run, updates)


def _claim(run: UploadRun, creates: list[int], holder: str) -> tuple[ClaimOutcome, list[int]]:
    """The creates' e-mails claimed for this delivery; returns the claims and the creates
    that hold theirs (the others wait for the message that holds them)."""
    emails = [run.open[i].email for i in creates]
    outcome = run.ports.claims.claim(emails, holder, run.settings.claim_lease)
    claimed = set(outcome.claimed)
    for i in creates:
        if run.open[i].email not in claimed:
            run.later[i] = run.open.pop(i)
    return outcome, [i for i in creates if i in run.open]


def _announce(run: UploadRun, record: SyncRecord, result: RecordResult) -> None:
    if record.announce and result.id is not None:
        run.announced[record.email] = result.id


def _create_or_update(
    run: UploadRun, creates: list[int], updates: list[int], holder: str
) -> list[int]:
    """Creates (under claims) and by-e-mail updates in one createOrUpdate call; returns the
    records still to update by id."""
    outcome, mine = _claim(run, creates, holder)
    together = mine + updates
    by_id: list[int] = []
    existing: list[int] = []
    request = f"createOrUpdate {len(together)} records by email"
    try:
        payload = [
            {"email": run.open[i].email, **run.open[i].fields}
            if run.open[i].action == "update"
            else run.open[i].fields
            for i in together
        ]
        results = run.ports.marketo.create_or_update(payload, "email")
        for i, result in zip(together, results, strict=True):
            record = run.open[i]
            if result.status in ("created", "updated"):
                _announce(run, record, result)
                expected = "created" if record.action == "create" else "updated"
                if result.status != expected:
                    run.raced(i, result, request)
                run.settle(i, result.status)
            elif MANY_MATCH in result.codes:
                (by_id if record.action == "update" else existing).append(i)
            else:
                run.fail(i, result, request)
    finally:
        run.ports.claims.release(list(outcome.claimed), holder)
    return by_id + (redecide(run, existing) if existing else [])


def _create(run: UploadRun, creates: list[int], holder: str) -> list[int]:
    """createOnly under claims; returns the records that turned into updates."""
    outcome, mine = _claim(run, creates, holder)
    if not mine:
        return []
    existing: list[int] = []
    try:
        results = run.ports.marketo.create_only([run.open[i].fields for i in mine])
        for i, result in zip(mine, results, strict=True):
            if result.status == "created":
                _announce(run, run.open[i], result)
                run.settle(i, "created")
            elif ALREADY_EXISTS in result.codes:
                existing.append(i)
            else:
                run.fail(i, result, f"createOnly {len(mine)} records")
    finally:
        run.ports.claims.release(list(outcome.claimed), holder)
    return redecide(run, existing) if existing else []


def _update(run: UploadRun, indexes: Sequence[int]) -> None:
    payload = [{"id": run.open[i].lead_id, **run.open[i].fields} for i in indexes]
    results = run.ports.marketo.update_only(payload, "id")
    for i, result in zip(indexes, results, strict=True):
        if result.status == "updated":
            run.settle(i, "updated")
        else:
            run.fail(i, result, f"updateOnly {len(indexes)} records by id")
