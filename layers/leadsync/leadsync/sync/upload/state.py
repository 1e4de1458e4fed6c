"""What one delivery of an upload message knows while it runs: its settings and ports, the
records still open, what each settled as, and the entries due in the error store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from leadsync.mapping.fieldmap import FieldMap
from leadsync.marketo.models import RecordResult
from leadsync.sync.failures import ErrorEntry, ErrorKind, from_record
from leadsync.sync.messages import SyncBatch, SyncRecord
from leadsync.sync.upload.ports import UploadPorts


@dataclass(frozen=True)
class UploadSettings:
    field_map: FieldMap | None = None
    # longer than the function's timeout: a live holder never loses its claim
    claim_lease: timedelta = timedelta(minutes=15)
    # how soon a record whose e-mail another message is creating is tried again
    claim_retry_seconds: int = 20
    # deliveries a batch may fail for a transient cause before it is dead-lettered
    max_attempts: int = 4
    # delay before the next delivery of a failed batch: doubled each attempt, at most 900 s
    retry_delay_seconds: int = 30
    # how old a lookup may be for creates and updates to go out in one createOrUpdate call;
    # zero: never, always createOnly and updateOnly by id
    combine_window: timedelta = timedelta(minutes=5)


def refusal(result: RecordResult) -> tuple[str, str]:
    """(code, detail) of a record Marketo did not write: its codes (or its status), and the
    messages of its reasons."""
    code = ",".join(result.codes) or result.status
    detail = "; ".join(reason.message for reason in result.reasons if reason.message)
    return code, detail


@dataclass
class UploadRun:
    """One delivery at work; `open` holds the records not settled yet, by their place in the
    batch."""

    batch: SyncBatch
    settings: UploadSettings
    ports: UploadPorts
    at: datetime
    fmap: FieldMap
    open: dict[int, SyncRecord] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    errors: list[ErrorEntry] = field(default_factory=list)
    later: dict[int, SyncRecord] = field(default_factory=dict)  # retry soon (claim held)
    # the batch's list operation or delete is still to do (it always moves whole)
    operation: bool = False
    # the list operation waits for leads the run is still creating
    operation_later: bool = False
    # lead ids of announced creates, and announced creates refused for good
    announced: dict[str, int] = field(default_factory=dict)
    announce_failed: list[str] = field(default_factory=list)
    # e-mail → the values written to its lead by this run, for the write ledger
    written: dict[str, dict[str, object]] = field(default_factory=dict)

    def tally(self, outcome: str) -> None:
        self.counts[outcome] = self.counts.get(outcome, 0) + 1

    def settle(self, index: int, outcome: str) -> None:
        record = self.open.pop(index, None)
        self.tally(outcome)
        if record is not None and outcome in ("created", "updated"):
            self.written[record.email] = dict(record.fields)

    def fail(self, index: int, result: RecordResult, request: str) -> None:
        record = self.open[index]
        code, detail = refusal(result)
        self.errors.append(
            from_record(
                record,
                reason=f"marketo_{code}"[:100],
                detail=detail or "Marketo skipped the record",
                at=self.at,
                correlation_id=self.batch.correlation_id,
                code=code[:100],
                request=request,
                attempts=self.batch.attempts + 1,
                first_failure_at=self.batch.first_failure_at,
            )
        )
        if record.action == "create" and record.announce:
            self.announce_failed.append(record.email)
        self.settle(index, "failed")

    def raced(self, index: int, result: RecordResult, request: str) -> None:
        """Written, but not as the lookup foresaw: a create updated a lead that appeared
        meanwhile (its values may have replaced protected ones), or an update by e-mail
        created a lead for one that was gone."""
        record = self.open[index]
        if record.action == "create":
            reason = "create_met_existing_lead"
            detail = (
                "a lead with this e-mail appeared between the lookup and the write; it was "
                "updated with every mapped value, protected ones included"
            )
        else:
            reason = "update_recreated_lead"
            detail = (
                "the lead was gone between the lookup and the write; a new lead was created "
                "with the changed values only"
            )
        self.errors.append(
            ErrorEntry(
                kind=ErrorKind.RACED,
                reason=reason,
                detail=detail,
                chat_ids=record.chat_ids,
                correlation_id=self.batch.correlation_id,
                record={**record.model_dump(mode="json"), "lead_id": result.id},
                first_failure_at=self.at,
                last_failure_at=self.at,
                request=request,
                attempts=self.batch.attempts + 1,
            )
        )
        self.tally("raced")

    def fail_operation(
        self,
        reason: str,
        detail: str,
        record: dict[str, object],
        code: str,
        request: str,
        chat_ids: Sequence[str] = (),
    ) -> None:
        """One lead of a list operation or delete, or one chat's activity, that cannot be
        done."""
        self.errors.append(
            ErrorEntry(
                kind=ErrorKind.UNDELIVERABLE,
                reason=reason[:100],
                detail=detail,
                chat_ids=list(chat_ids),
                correlation_id=self.batch.correlation_id,
                record=record,
                first_failure_at=self.batch.first_failure_at or self.at,
                last_failure_at=self.at,
                code=code[:100] or None,
                request=request[:200] or None,
                attempts=self.batch.attempts + 1,
            )
        )
        self.tally("failed")
