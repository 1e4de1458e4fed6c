"""The messages beyond lead writes: a list operation and a delete, one call each.

- A list operation (one static list, add or remove, at most 300 leads) waits in the queue
  until the run has created the leads it names by e-mail (at most MAX_LIST_WAITS
  deferrals), then goes out as one call; "lead not found" (1004) and "not in list" (1015)
  count as done. The lead directory learns the list's new members.
- A delete (erasure requests) goes out as one call; "lead not found" counts as done. Its log
  line names the requests by their references only.

Neither needs a re-check on a delivery that may repeat it: Marketo makes both idempotent
(adding a member again, removing a non-member or deleting a lead already gone only answers
"skipped", which counts as done).
"""

from __future__ import annotations

from collections.abc import Sequence

from leadsync.errors import ConfigurationError
from leadsync.marketo.models import RecordResult
from leadsync.runtime.observability import get_logger
from leadsync.sync.messages import DeleteOperation, ListOperation
from leadsync.sync.upload.state import UploadRun, refusal

NOT_FOUND = "1004"
NOT_IN_LIST = "1015"
# deferrals a list operation waits for the leads of the run still being created; then it
# goes out with the leads known, and the others go to the error store
MAX_LIST_WAITS = 30


def list_operation(run: UploadRun, op: ListOperation) -> None:
    """One list add or remove: wait for the run's creates it names, then one call."""
    ids = list(op.lead_ids)
    if op.pending_emails:
        created = _created_leads(run, op)
        if created is None:
            return
        ids += created
    ids = _unique(ids)
    # resolved: a delivery after this one (a give-back, a deferral) carries the ids only
    run.batch = run.batch.model_copy(
        update={"list_operation": op.model_copy(update={"lead_ids": ids, "pending_emails": []})}
    )
    if not ids:
        run.operation = False
        return
    if op.action == "add":
        request = f"add {len(ids)} leads to list {op.list_id}"
        results = run.ports.marketo.add_to_list(op.list_id, ids)
    else:
        request = f"remove {len(ids)} leads from list {op.list_id}"
        results = run.ports.marketo.remove_from_list(op.list_id, ids)
    run.operation = False
    _settle_members(run, op, ids, results, request)


def _created_leads(run: UploadRun, op: ListOperation) -> list[int] | None:
    """The lead ids of the operation's pending e-mails; None while some are still being
    created (the operation then waits, with the ids known so far). After the last wait, an
    e-mail still unknown goes to the error store."""
    if run.ports.leads is None:
        raise ConfigurationError("a list operation waits for created leads: no lead directory")
    known = run.ports.leads.ids_of(op.pending_emails)
    unknown = [email for email in op.pending_emails if email not in known]
    failed = [email for email in op.pending_emails if email in known and known[email] is None]
    created = [lead for email in op.pending_emails if (lead := known.get(email)) is not None]
    if unknown and run.batch.deferrals < MAX_LIST_WAITS:
        # the leads known go into the message; the others are still being created
        ids = _unique([*op.lead_ids, *created])
        run.batch = run.batch.model_copy(
            update={
                "list_operation": op.model_copy(update={"lead_ids": ids, "pending_emails": unknown})
            }
        )
        run.operation, run.operation_later = False, True
        return None
    for email in unknown:
        run.fail_operation(
            "list_lead_unknown",
            f"no lead id for this e-mail after {run.batch.deferrals} waits; "
            f"not {'added to' if op.action == 'add' else 'removed from'} list {op.list_id}",
            {"list_id": op.list_id, "action": op.action, "email": email},
            "",
            "",
        )
    if failed:  # their creates failed, with an entry in the error store of their own
        get_logger().info(
            "list operation drops leads whose create failed",
            extra={"correlation_id": run.batch.correlation_id, "dropped": len(failed)},
        )
    return created


def _settle_members(
    run: UploadRun,
    op: ListOperation,
    ids: Sequence[int],
    results: Sequence[RecordResult],
    request: str,
) -> None:
    """Each lead's answer counted, or stored as a failure; the directory told who is in."""
    done: list[int] = []
    absent: list[int] = []  # not found, or not in the list: in it no longer, either way
    outcome = "list_added" if op.action == "add" else "list_removed"
    for lead_id, result in zip(ids, results, strict=True):
        if result.status in ("added", "removed"):
            done.append(lead_id)
            run.tally(outcome)
        elif NOT_FOUND in result.codes or NOT_IN_LIST in result.codes:
            absent.append(lead_id)
        else:
            code, detail = refusal(result)
            run.fail_operation(
                f"marketo_{code}",
                detail or "Marketo skipped the lead",
                {"list_id": op.list_id, "action": op.action, "lead_id": lead_id},
                code,
                request,
            )
    directory = run.ports.leads
    if directory is not None:
        if op.action == "add" and done:
            directory.add_members(op.list_id, done)
        gone = absent + (done if op.action == "remove" else [])
        if gone:
            directory.remove_members(op.list_id, gone)


def delete(run: UploadRun, op: DeleteOperation) -> None:
    """One delete call for erasure requests; logged with the requests' references only."""
    request = f"delete {len(op.lead_ids)} leads"
    results = run.ports.marketo.delete(op.lead_ids)
    run.operation = False
    aligned = len(op.references) == len(op.lead_ids)
    gone = 0
    for index, (lead_id, result) in enumerate(zip(op.lead_ids, results, strict=True)):
        if result.status == "deleted":
            run.tally("leads_deleted")
        elif NOT_FOUND in result.codes:
            gone += 1  # deleted already
        else:
            code, detail = refusal(result)
            record: dict[str, object] = {"action": "delete", "lead_id": lead_id}
            if aligned:
                record["reference"] = op.references[index]
            run.fail_operation(
                f"marketo_{code}", detail or "Marketo skipped the delete", record, code, request
            )
    get_logger().info(
        "leads deleted",
        extra={
            "correlation_id": run.batch.correlation_id,
            "deleted": run.counts.get("leads_deleted", 0),
            "already_gone": gone,
            "failed": run.counts.get("failed", 0),
            "references": list(op.references),
        },
    )


def _unique(ids: Sequence[int]) -> list[int]:
    return list(dict.fromkeys(ids))
