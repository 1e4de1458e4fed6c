"""Metrics as CloudWatch embedded metric format (EMF), through Powertools.

Each `emit` prints one JSON line to the function's log; CloudWatch Logs turns it into
metrics, so no PutMetricData call and no permission for one. The namespace is
POWERTOOLS_METRICS_NAMESPACE; every metric carries the dimensions `service` and `stack`
(STACK_NAME), so two stacks in one account keep apart. The names below are the ones the
template's dashboard and alarms read: rename both together.

A metric that cannot be written is logged and dropped: it never fails the work it describes.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Protocol

from leadsync.runtime.observability import get_logger

if TYPE_CHECKING:
    from leadsync.limiter.readout import BudgetReadout
    from leadsync.report.digest_job import DigestSummary
    from leadsync.sync.failures import ErrorEntry
    from leadsync.sync.fetch.summary import FetchSummary
    from leadsync.sync.upload.outcome import UploadResult

NAMESPACE = "leadsync"

FETCH_SUCCEEDED = "FetchRunsSucceeded"
MARKETO_CALLS = "MarketoCalls"
LIMITER_WAIT = "LimiterWaitSeconds"
# the day's calls (in the quota's day) as the limiter last saw them: leadsync's own, and the
# whole instance's (its usage report plus what leadsync used since; leadsync's alone until
# one copy has read the report)
CALLS_TODAY = "MarketoCallsToday"
INSTANCE_CALLS_TODAY = "InstanceCallsToday"
RECORDS_SYNCED = "RecordsSynced"
RECORDS_FAILED = "RecordsFailed"
ERRORS = "Errors"  # with the dimension `cause`
CAUSE = "cause"


class SeesBudget(Protocol):
    """The limiter, as far as metrics go (`DynamoDBLimiter.budget_seen`)."""

    def budget_seen(self) -> BudgetReadout | None: ...


def emit(
    counts: Mapping[str, float],
    *,
    seconds: Mapping[str, float] | None = None,
    dimensions: Mapping[str, str] | None = None,
) -> None:
    """One EMF line: `counts` as Count, `seconds` as Seconds, under the common dimensions
    plus `dimensions`."""
    from aws_lambda_powertools.metrics import (
        EphemeralMetrics,
        MetricResolutionError,
        MetricUnit,
        MetricUnitError,
        MetricValueError,
        SchemaValidationError,
    )
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.exceptions import (
        MetricNameError,
    )

    # CloudWatch takes no NaN or infinity: such a value says nothing, it is left out
    counts = {name: value for name, value in counts.items() if math.isfinite(value)}
    seconds = {name: value for name, value in (seconds or {}).items() if math.isfinite(value)}
    if not counts and not seconds:
        return
    try:
        metrics = EphemeralMetrics(
            namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or NAMESPACE,
            service=os.environ.get("POWERTOOLS_SERVICE_NAME") or NAMESPACE,
        )
        stack = os.environ.get("STACK_NAME")
        if stack:
            metrics.add_dimension("stack", stack)
        for name, dimension in (dimensions or {}).items():
            metrics.add_dimension(name, dimension)
        for name, count in counts.items():
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=count)
        for name, value in seconds.items():
            metrics.add_metric(name=name, unit=MetricUnit.Seconds, value=value)
        metrics.flush_metrics()
    except (
        MetricNameError,
        MetricResolutionError,
        MetricUnitError,
        MetricValueError,
        SchemaValidationError,
        ValueError,
    ) as exc:
        get_logger().warning("metrics not written: %s", exc)


def emit_errors(entries: Iterable[ErrorEntry]) -> None:
    """`Errors` by cause (`kind/reason`, as the digest names them): one line per cause."""
    causes = Counter(f"{entry.kind.value}/{entry.reason}" for entry in entries)
    for cause, count in sorted(causes.items()):
        emit({ERRORS: count}, dimensions={CAUSE: cause})


def emit_fetch(summary: FetchSummary) -> None:
    """A fetch run that ended: what it read and queued; `FetchRunsSucceeded` says it ended
    (the alarm on missing runs reads it)."""
    emit(
        {
            FETCH_SUCCEEDED: 1,
            "ChatsRead": summary.chats,
            "Visitors": summary.visitors,
            "ChatsRejected": summary.rejected,
            "CreatesQueued": summary.creates,
            "UpdatesQueued": summary.updates,
            "VisitorsUnchanged": summary.unchanged,
            "MessagesQueued": summary.messages + summary.list_messages + summary.delete_messages,
            "Erasures": summary.erasures,
        }
    )


def emit_upload(result: UploadResult) -> None:
    """One message's outcome, record by record; a failed call is an error by its code."""
    synced = result.created + result.updated + result.unchanged
    emit(
        {
            RECORDS_SYNCED: synced,
            "RecordsCreated": result.created,
            "RecordsUpdated": result.updated,
            "RecordsUnchanged": result.unchanged,
            RECORDS_FAILED: result.failed,
            "RecordsDeferred": result.deferred,
            "RecordsRetried": result.retried,
            "RecordsDeadLettered": result.dead_lettered,
            "ActivitiesWritten": result.activities_written,
            "ActivitiesRefused": result.activities_refused,
        }
    )
    if result.failure:
        emit({ERRORS: 1}, dimensions={CAUSE: f"call_failed/{result.failure}"[:250]})


def emit_marketo(calls: int, limiter: SeesBudget, waited_s: float) -> None:
    """An invocation's Marketo calls and its wait for permits, with the day's usage as the
    limiter last saw it (nothing when this copy has not seen the limiter yet)."""
    counts: dict[str, float] = {MARKETO_CALLS: calls}
    budget = limiter.budget_seen()
    if budget is not None:
        counts[CALLS_TODAY] = budget.used
        counts[INSTANCE_CALLS_TODAY] = (
            budget.instance_used if budget.instance_used is not None else budget.used
        )
    emit(counts, seconds={LIMITER_WAIT: round(waited_s, 3)})


def emit_digest(summary: DigestSummary) -> None:
    """What the day's digest reported, and whether it was sent."""
    emit(
        {
            "DigestsSent": int(summary.sent),
            "DigestErrors": summary.errors,
            "DigestDeadLetters": summary.dead_letters,
        }
    )
