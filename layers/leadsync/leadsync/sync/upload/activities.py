"""A message of chat activities: each chat on its visitor's lead once, never twice.

One delivery, in order:

1. Lead ids: an activity of a lead the same run creates waits, like a list operation, until
   the upload that creates it has made its id known (the lead directory); after the last
   wait, a lead still unknown is looked up by e-mail every 15 minutes (the bulk path's
   leads, created by an import, are found that way); one not in Marketo a day after its run
   goes to the error store.
2. Claims (adapters/activity_ledger.py): a chat whose activity Marketo holds is done; one
   another delivery is sending waits; one whose send may have reached Marketo (a lost answer,
   a killed invocation) is looked for among the lead's activities first and sent again only
   when it is not there.
3. One call adds the rest (at most 300). Each added chat is recorded with Marketo's GUID; a
   refused one goes to the error store with Marketo's reason (replayable) and is released.

The activity type must exist and be approved (`leadsync check --fix`): until it is, the
message waits, losing nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from leadsync.activities.records import ChatActivity, to_marketo
from leadsync.errors import ConfigurationError
from leadsync.marketo.activities import ActivityResult
from leadsync.marketo.errors import MarketoRetryable
from leadsync.marketo.guard import GaveUp
from leadsync.runtime.observability import get_logger
from leadsync.sync.messages import ActivityOperation
from leadsync.sync.upload.ports import ActivityPorts
from leadsync.sync.upload.state import UploadRun

# deferrals an activity waits for its lead's create (as a list operation does); then its
# lead is looked up by e-mail every LOOKUP_AGAIN until LEAD_WAIT has passed since the run
MAX_LEAD_WAITS = 30
LOOKUP_AGAIN = timedelta(minutes=15)
LEAD_WAIT = timedelta(days=1)
# read back from this long before the earliest activity's date (clock skew, rounding)
READ_BACK_SLACK = timedelta(minutes=5)


def write_activities(run: UploadRun, op: ActivityOperation, holder: str) -> None:
    """The message's activities, each written once (see the module's note)."""
    ports = _ports(run)
    activities = _with_lead_ids(run, op)
    if activities is None:
        return
    type_id = ports.type_id()
    if type_id is None:
        raise ConfigurationError(f"the activity type {op.type_api_name!r} is not approved")
    ledger = ports.ledger
    lease = run.settings.claim_lease
    claims = ledger.claim([a.chat_id for a in activities], holder, lease)
    for _ in claims.written:
        run.tally("activities_already_written")
    doubtful = [a for a in activities if a.chat_id in claims.in_doubt]
    found = _read_back(run, ports, type_id, doubtful) if doubtful else set()
    if found:
        ledger.mark_written(dict.fromkeys(found, ""))
    resend = [a.chat_id for a in doubtful if a.chat_id not in found]
    if resend:
        ledger.take_over(resend, holder, lease)
    sending = [a for a in activities if a.chat_id in claims.claimed or a.chat_id in resend]
    held = [a for a in activities if a.chat_id in claims.held]
    _remember(run, op, held)
    if sending:
        request = f"add {len(sending)} chat activities"
        try:
            results = ports.api.add([to_marketo(a, type_id) for a in sending])
        except MarketoRetryable as exc:
            # never retried here: the call may have been applied, and an activity sent twice
            # stays twice; the next delivery finds these chats in doubt and reads them back
            raise GaveUp(exc, request=request, tries=1) from exc
        _settle(run, ports, sending, results)
    run.operation = False
    if held:
        run.operation_later = True


def _with_lead_ids(run: UploadRun, op: ActivityOperation) -> list[ChatActivity] | None:
    """The activities with their lead ids; None while some leads are still being created
    (the message then waits with the ids known so far)."""
    pending = [a.email for a in op.activities if a.lead_id is None]
    if not pending:
        return list(op.activities)
    known = run.ports.leads.ids_of(pending) if run.ports.leads is not None else {}
    unknown = [email for email in pending if known.get(email) is None]
    if unknown and run.batch.deferrals < MAX_LEAD_WAITS and not op.by_import:
        _remember(run, op, _resolved(op.activities, known))
        run.operation, run.operation_later = False, True
        return None
    if unknown:  # created by an import, or its create failed: Marketo says
        found = run.ports.marketo.lookup_by_email(unknown, ["email"])
        known.update({e: min(lead.id for lead in leads) for e, leads in found.items() if leads})
        if any(known.get(e) is None for e in unknown) and run.at - run.batch.created_at < LEAD_WAIT:
            # an import may still be running: looked up again later, not sooner
            _remember(run, op, _resolved(op.activities, known))
            run.batch = run.batch.model_copy(update={"not_before": run.at + LOOKUP_AGAIN})
            run.operation, run.operation_later = False, True
            return None
    activities = _resolved(op.activities, known)
    for activity in activities:
        if activity.lead_id is None:
            run.fail_operation(
                "activity_lead_unknown",
                "no lead in Marketo for the chat's e-mail; the chat's activity was not written",
                _record(activity),
                "",
                "",
                [activity.chat_id],
            )
    return [a for a in activities if a.lead_id is not None]


def _resolved(
    activities: Sequence[ChatActivity], known: dict[str, int | None]
) -> list[ChatActivity]:
    return [
        a.model_copy(update={"lead_id": known[a.email]})
        if a.lead_id is None and known.get(a.email) is not None
        else a
        for a in activities
    ]


def _read_back(
    run: UploadRun,
    ports: ActivityPorts,
    type_id: int,
    doubtful: list[ChatActivity],
) -> set[str]:
    """The chats in doubt whose activity Marketo holds after all. Marketo lists activities
    by their own date, the chat's start: the read begins at the earliest of them."""
    since = min(a.activity_date for a in doubtful) - READ_BACK_SLACK
    wanted = {a.chat_id for a in doubtful}
    lead_ids = [a.lead_id for a in doubtful if a.lead_id is not None]
    try:
        found = {
            stored.primary_attribute_value
            for stored in ports.api.read_back(type_id, lead_ids, since)
            if stored.primary_attribute_value in wanted
        }
    except MarketoRetryable as exc:
        raise GaveUp(exc, request=f"read back {len(lead_ids)} leads' activities", tries=1) from exc
    get_logger().info(
        "chat activities in doubt read back",
        extra={
            "correlation_id": run.batch.correlation_id,
            "in_doubt": len(wanted),
            "found": len(found),
        },
    )
    return {chat for chat in found if chat is not None}


def _settle(
    run: UploadRun, ports: ActivityPorts, sent: list[ChatActivity], results: list[ActivityResult]
) -> None:
    """Each added chat recorded with its GUID; each refused one reported and released."""
    answered = list(zip(sent, results, strict=True))
    added = {a.chat_id: r.marketo_guid or "" for a, r in answered if r.added}
    if added:
        ports.ledger.mark_written(added)
    refused = []
    for activity, result in answered:
        if result.added:
            run.tally("activities_written")
            continue
        code = ",".join(result.codes) or result.status
        detail = "; ".join(r.message for r in result.reasons if r.message)
        run.fail_operation(
            f"activity_{code}",
            detail or "Marketo skipped the chat's activity",
            _record(activity),
            code,
            f"add {len(sent)} chat activities",
            [activity.chat_id],
        )
        run.tally("activities_refused")
        refused.append(activity.chat_id)
    if refused:
        ports.ledger.release(refused)


def _ports(run: UploadRun) -> ActivityPorts:
    if run.ports.activities is None:
        raise ConfigurationError("an activity message needs the activity ledger and type")
    return run.ports.activities


def _remember(run: UploadRun, op: ActivityOperation, activities: list[ChatActivity]) -> None:
    """What a later delivery of this message still has to do."""
    if activities:
        update = {"activities": op.model_copy(update={"activities": activities})}
        run.batch = run.batch.model_copy(update=update)


def _record(activity: ChatActivity) -> dict[str, object]:
    return {"activity": activity.model_dump(mode="json")}
