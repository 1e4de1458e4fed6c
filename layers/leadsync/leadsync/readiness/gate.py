"""The schema gate: a function writes nothing while a mapped field is missing or unfit.

Marketo would refuse every record with 1006 (no such field) or 1003; instead the run stops
before its first write, the error store gets one entry a day naming the fields and the fix,
and the work waits (the fetch keeps its mark, the upload gives its messages back) until the
schema is fixed. The instance is described at most once an hour across all functions (the
verdict is shared through the state table); `leadsync check` refreshes it at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from leadsync.errors import LeadsyncError
from leadsync.mapping.fieldmap import FieldMap
from leadsync.marketo.errors import MarketoError
from leadsync.marketo.schema import LeadField
from leadsync.ports import ErrorSink
from leadsync.readiness.fields import FieldProblem, fingerprint, problems
from leadsync.readiness.verdict import SchemaVerdict
from leadsync.runtime.clock import Clock, utc_now
from leadsync.runtime.observability import get_logger
from leadsync.sync.failures import ErrorEntry, ErrorKind

DESCRIBE_EVERY = timedelta(hours=1)
# how long a copy trusts what it read from the state table before reading it again
REREAD_EVERY = timedelta(minutes=1)
# how long an upload message waits before it looks again
WAIT_SECONDS = 300


# the fix of each kind of problem, said once for all the fields that have it
FIXES = {
    "field_missing": "run `leadsync check --fix` or create the fields in Marketo Admin",
    "field_type": "map fields of the type leadsync writes in field_map.toml",
    "field_length": "lower max_length in field_map.toml to the fields' length",
    "field_read_only": "take the read-only fields out of field_map.toml",
}


class SchemaCheck(Protocol):
    """What the fetch and the upload ask before they write: the problems that stop them."""

    def problems(self) -> Sequence[FieldProblem]: ...


class VerdictStore(Protocol):
    def get(self) -> SchemaVerdict | None: ...

    def put(self, verdict: SchemaVerdict) -> None: ...


def configuration_entry(verdict: SchemaVerdict, at: datetime) -> ErrorEntry:
    """One error-store entry for a schema that stops the sync: digest line and fix."""
    first = verdict.problems[0]
    fixes = "; ".join(dict.fromkeys(FIXES[p.reason] for p in verdict.problems))
    return ErrorEntry(
        kind=ErrorKind.CONFIGURATION,
        reason=first.reason,
        # the fix first: the digest shows the start of a long detail
        detail=f"nothing is written until fixed: {fixes}. {verdict.summary()}"[:1000],
        record={"fields": [p.field for p in verdict.problems]},
        first_failure_at=at,
        last_failure_at=at,
        code=first.reason,
    )


def decide(
    fmap: FieldMap,
    schema: Sequence[LeadField],
    *,
    at: datetime,
    previous: SchemaVerdict | None,
) -> tuple[SchemaVerdict, ErrorEntry | None]:
    """The new verdict, and the entry to store when it stops the sync and was not yet
    reported today (or its problems changed)."""
    found = tuple(problems(fmap, schema))
    verdict = SchemaVerdict(fingerprint=fingerprint(fmap), checked_at=at, problems=found)
    if not found:
        return verdict, None
    today = at.date().isoformat()
    if previous is not None and previous.problems == found and previous.reported_on == today:
        return verdict.model_copy(update={"reported_on": today}), None
    verdict = verdict.model_copy(update={"reported_on": today})
    return verdict, configuration_entry(verdict, at)


class SchemaGate:
    def __init__(
        self,
        fmap: FieldMap,
        describe: Callable[[], Sequence[LeadField]],
        verdicts: VerdictStore,
        errors: ErrorSink,
        *,
        clock: Clock = utc_now,
    ) -> None:
        self._fmap = fmap
        self._fingerprint = fingerprint(fmap)
        self._describe = describe
        self._verdicts = verdicts
        self._errors = errors
        self._clock = clock
        self._known: SchemaVerdict | None = None
        self._read_at: datetime | None = None

    def problems(self) -> tuple[FieldProblem, ...]:
        """What stops writes now; empty when the schema fits (or cannot be told)."""
        verdict = self.verdict()
        return verdict.problems if verdict is not None else ()

    def verdict(self) -> SchemaVerdict | None:
        now = self._clock()
        if self._known is not None and self._read_at and now - self._read_at < REREAD_EVERY:
            return self._known
        try:
            stored = self._verdicts.get()
            if stored is not None and stored.fresh(self._fingerprint, now, DESCRIBE_EVERY):
                self._remember(stored, now)
                return stored
            verdict, entry = decide(self._fmap, self._describe(), at=now, previous=stored)
            self._verdicts.put(verdict)
            if entry is not None:
                self._errors.record_errors([entry])
        except (MarketoError, LeadsyncError) as exc:
            # the gate's own trouble never stops the sync (the writes meet it anyway), and a
            # Marketo that is down is not asked again before REREAD_EVERY
            get_logger().warning(
                "could not check the lead schema", extra={"error": type(exc).__name__}
            )
            self._read_at = now
            return self._known
        if verdict.problems:
            get_logger().error(
                "the lead schema does not fit the field map; nothing is written",
                extra={"problems": verdict.summary()},
            )
        self._remember(verdict, now)
        return verdict

    def _remember(self, verdict: SchemaVerdict, now: datetime) -> None:
        self._known, self._read_at = verdict, now
