"""The upload: one queue message → Marketo writes that can never duplicate a lead.

One delivery, in order:

1. A message whose time has not come (`not_before`, a daily quota spent), or lead writes
   while the lead schema does not fit the field map (Marketo would refuse every record,
   1006), goes back to the queue whole, losing nothing.
2. The message's work: its lead writes (`writes`, deciding again first where the delivery
   may repeat work already done, `recheck`), its list operation or delete (`operations`),
   or its chat activities, each written once (`activities`). A create marked `announce`
   makes its lead id known to the run's list operations and activities (the lead
   directory), or that the create failed for good. A record Marketo refuses goes to the
   error store with its reason and correlation id.
3. A spent budget (the limiter's rate or daily quota, or Marketo's 606/607/615) or an open
   circuit breaker stops the work: what is not written waits in the queue, its attempts
   untouched. A call that keeps failing (after the retries of marketo.guard.Guard) is given
   back for a later delivery, or dead-lettered with its history (`giveback`).
4. What the run learnt is kept (write ledger, lead directory, error store), what is not done
   goes back to the queue, and the result is counted (`outcome`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime

from leadsync.errors import DependencyError, PermanentError
from leadsync.limiter.api import BudgetExhausted
from leadsync.mapping.fieldmap import default_field_map
from leadsync.marketo.errors import MarketoError, MarketoRateLimited
from leadsync.marketo.guard import CircuitOpen, GaveUp
from leadsync.readiness.gate import WAIT_SECONDS as SCHEMA_WAIT_SECONDS
from leadsync.runtime.clock import utc_now
from leadsync.sync.messages import SQS_MAX_DELAY_SECONDS, SyncBatch, parse_batch
from leadsync.sync.upload.activities import write_activities
from leadsync.sync.upload.giveback import (
    GaveBack,
    Wait,
    defer,
    give_back,
    seconds_until,
    wait_of,
)
from leadsync.sync.upload.operations import delete, list_operation
from leadsync.sync.upload.outcome import UploadResult, keep, metrics, result_of, wait_whole
from leadsync.sync.upload.ports import UploadPorts
from leadsync.sync.upload.state import UploadRun, UploadSettings
from leadsync.sync.upload.writes import write_records


def process(
    body: str | bytes,
    *,
    holder: str,
    ports: UploadPorts,
    settings: UploadSettings | None = None,
    now: Callable[[], datetime] = utc_now,
    redelivered: bool = False,
) -> UploadResult:
    """Write one message's records; `holder` names this delivery (the SQS message id).

    `redelivered`: SQS has delivered this message before (its receive count is above 1)."""
    batch = parse_batch(body)
    settings = settings or UploadSettings()
    started = now()
    held = _held_back(batch, ports, started)
    if held is not None:
        return held
    run = UploadRun(
        batch,
        settings,
        ports,
        started,
        settings.field_map or default_field_map(),
        dict(enumerate(batch.records)),
        operation=not batch.records,
    )
    wait, gave_back = _attempt(run, holder, redelivered=redelivered)
    result = result_of(run, batch, defer(run, wait), gave_back)
    if ports.stats is not None:
        ports.stats.add(metrics(result))
    return result


def _held_back(batch: SyncBatch, ports: UploadPorts, at: datetime) -> UploadResult | None:
    """The whole message back to the queue, before any work, when its time has not come or
    the lead schema does not fit the field map."""
    if batch.not_before is not None and batch.not_before > at:
        delay = min(seconds_until(batch.not_before, at), SQS_MAX_DELAY_SECONDS)
        return wait_whole(batch, ports.deferrer, delay, "daily_quota")
    if batch.records and ports.schema is not None and ports.schema.problems():
        # Marketo would refuse every record (1006): the message waits, losing nothing
        return wait_whole(batch, ports.deferrer, SCHEMA_WAIT_SECONDS, "configuration")
    if batch.activities is not None and (
        ports.activities is None or not ports.activities.type_id()
    ):
        # Marketo takes activities of an approved type only (`leadsync check --fix`)
        return wait_whole(batch, ports.deferrer, SCHEMA_WAIT_SECONDS, "configuration")
    return None


def _attempt(run: UploadRun, holder: str, *, redelivered: bool) -> tuple[Wait | None, GaveBack]:
    """The message's work. A spent budget or an open breaker says how long the rest waits;
    a call that keeps failing, or that Marketo refused whole, has the rest given back."""
    try:
        batch = run.batch
        if batch.list_operation is not None:
            list_operation(run, batch.list_operation)
        elif batch.delete is not None:
            delete(run, batch.delete)
        elif batch.activities is not None:
            write_activities(run, batch.activities, holder)
        else:
            write_records(run, holder, redelivered=redelivered)
    except (BudgetExhausted, MarketoRateLimited) as exc:
        return wait_of(exc, run.at), GaveBack()
    except CircuitOpen as exc:
        return (max(1, math.ceil(exc.retry_after_seconds)), "circuit_open", None), GaveBack()
    except GaveUp as exc:
        detail = f"{exc.detail} (after {exc.tries} tries)"
        return None, give_back(run, exc.code, detail, exc.request, permanent=False)
    except (PermanentError, DependencyError) as exc:
        if not isinstance(exc, MarketoError) or exc.retryable:
            raise
        # a refusal of the whole call: no retry can change it
        return None, give_back(run, exc.code, exc.detail or str(exc), "", permanent=True)
    finally:
        keep(run)
    return None, GaveBack()
