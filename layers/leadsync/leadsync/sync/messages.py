"""The queue message between fetch and upload: the writes one destination call can carry,
and how a message body is read back into one."""

from __future__ import annotations

import json
from typing import Annotated, Literal, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveInt,
    StringConstraints,
    ValidationError,
    model_validator,
)

from leadsync.activities.records import ChatActivity
from leadsync.errors import InvalidMessage
from leadsync.mapping.fieldmap import FieldName
from leadsync.mapping.sanitize import normalize_email
from leadsync.models import IdList

# the longest SQS lets a message wait before it is delivered (15 minutes): every delay that
# puts work back on a queue stops here, and the rest of a wait rides in the message
SQS_MAX_DELAY_SECONDS = 900


def _email(value: object) -> str:
    email = normalize_email(value)
    if email is None:
        raise ValueError("not a valid e-mail address")
    return email


FieldValue = Annotated[str, StringConstraints(max_length=65_535)] | int | float | bool


class SyncRecord(BaseModel):
    """One lead write, decided by the fetch: create a new lead, or update one by its id.

    A create carries every mapped value, so that if the lead appears meanwhile (another run,
    another integration) the upload can decide the update under the same policies."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    action: Literal["create", "update"]
    email: Annotated[str, BeforeValidator(_email)]
    lead_id: PositiveInt | None = None
    fields: dict[FieldName, FieldValue] = Field(min_length=1)
    last_chat_at: AwareDatetime | None = None
    chat_ids: IdList = Field(default_factory=list)
    # a create whose lead id list operations of the same run wait for: the upload keeps it
    announce: bool = False
    # an update whose e-mail found this one lead and nothing else, and that keeps the
    # e-mail: it may be written by e-mail, in the same createOrUpdate call as the creates
    by_email: bool = False

    @model_validator(mode="after")
    def _shape(self) -> Self:
        if self.action == "update" and self.lead_id is None:
            raise ValueError("an update needs the lead id")
        if self.action == "create" and self.lead_id is not None:
            raise ValueError("a create has no lead id")
        if self.by_email and not keeps_email(self):
            raise ValueError("a write by e-mail cannot change the e-mail")
        return self


def keeps_email(record: SyncRecord) -> bool:
    """The record's fields leave the lead's e-mail as it is (or set it in another case)."""
    return normalize_email(record.fields.get("email", record.email)) == record.email


MAX_IDS_PER_CALL = 300

Email = Annotated[str, BeforeValidator(_email)]


class ListOperation(BaseModel):
    """One list-membership call: one static list, one direction, at most 300 leads.

    `pending_emails` are leads this run creates: their ids are known once the upload has
    created them (SyncRecord.announce), and the operation waits for them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    list_id: PositiveInt
    action: Literal["add", "remove"]
    lead_ids: list[PositiveInt] = Field(default_factory=list)
    pending_emails: list[Email] = Field(default_factory=list)

    @model_validator(mode="after")
    def _size(self) -> Self:
        total = len(self.lead_ids) + len(self.pending_emails)
        if not 1 <= total <= MAX_IDS_PER_CALL:
            raise ValueError(f"a list operation holds 1 to {MAX_IDS_PER_CALL} leads")
        if self.action == "remove" and self.pending_emails:
            raise ValueError("a lead still to be created is in no list to be removed from")
        return self


class DeleteOperation(BaseModel):
    """One delete call for erasure requests; `references` name the requests without their
    e-mail (fingerprints), for the logs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    lead_ids: list[PositiveInt] = Field(min_length=1, max_length=MAX_IDS_PER_CALL)
    references: list[Annotated[str, StringConstraints(max_length=128)]] = Field(
        default_factory=list, max_length=MAX_IDS_PER_CALL
    )


MAX_ACTIVITIES_PER_CALL = 300


class ActivityOperation(BaseModel):
    """One call's worth of chat activities (at most 300, across leads) of the activity type
    `type_api_name`; an activity whose lead this run creates names it by e-mail only
    (`lead_id` None) and waits for its id, as a list operation does."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type_api_name: Annotated[str, StringConstraints(min_length=1, max_length=255)]
    activities: list[ChatActivity] = Field(min_length=1, max_length=MAX_ACTIVITIES_PER_CALL)
    # the leads still to be created are made by a bulk import, which announces no id: they
    # are looked up by e-mail once it had time to run
    by_import: bool = False


class FailureNote(BaseModel):
    """One failed attempt at a message, kept in the message itself: a dead letter carries
    its own history (what was asked, what the destination answered, when, which attempt)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    at: AwareDatetime
    attempt: PositiveInt
    code: str = Field(min_length=1, max_length=100)  # "HTTP 503", "604", "local:timeout"...
    message: str = Field(default="", max_length=1000)
    request: str = Field(default="", max_length=200)  # "createOnly 120 records"
    dependency: str = Field(default="marketo", max_length=40)


MAX_FAILURE_NOTES = 10


def keep_notes(notes: list[FailureNote]) -> list[FailureNote]:
    """The first failure and the latest ones, at most MAX_FAILURE_NOTES."""
    if len(notes) <= MAX_FAILURE_NOTES:
        return notes
    return [notes[0], *notes[-(MAX_FAILURE_NOTES - 1) :]]


class SyncBatch(BaseModel):
    """One SQS message: at most one destination call's worth of records."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    correlation_id: str = Field(min_length=1, max_length=128)
    created_at: AwareDatetime
    # exactly one of: lead writes, one list operation, one delete, chat activities
    records: list[SyncRecord] = Field(default_factory=list)
    list_operation: ListOperation | None = None
    delete: DeleteOperation | None = None
    activities: ActivityOperation | None = None
    # set when the work waits for the destination's budget (the daily quota resets later)
    not_before: AwareDatetime | None = None
    # decide every record against a fresh lookup before writing (a webhook's visitor, which
    # nothing has looked up yet)
    lookup_first: bool = False
    deferrals: NonNegativeInt = 0
    # deliveries that failed for a retryable cause; at the limit the batch is dead-lettered
    attempts: NonNegativeInt = 0
    failures: list[FailureNote] = Field(default_factory=list, max_length=MAX_FAILURE_NOTES)

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        kinds = (
            bool(self.records)
            + (self.list_operation is not None)
            + (self.delete is not None)
            + (self.activities is not None)
        )
        if kinds != 1:
            raise ValueError(
                "a batch holds records, one list operation, one delete or chat activities"
            )
        return self

    @property
    def lead_count(self) -> int:
        """The leads the batch names: its records, or the leads of its list operation or
        delete."""
        if self.list_operation is not None:
            return len(self.list_operation.lead_ids) + len(self.list_operation.pending_emails)
        if self.delete is not None:
            return len(self.delete.lead_ids)
        if self.activities is not None:
            return len(self.activities.activities)
        return len(self.records)

    @property
    def first_failure_at(self) -> AwareDatetime | None:
        return self.failures[0].at if self.failures else None

    @property
    def last_failure_at(self) -> AwareDatetime | None:
        return self.failures[-1].at if self.failures else None


def peek_correlation_id(body: str | bytes) -> str | None:
    """The body's correlation id, if it has a usable one (for the logs, before parsing)."""
    try:
        value = json.loads(body).get("correlation_id")
    except (ValueError, AttributeError, RecursionError):
        return None
    return value[:128] if isinstance(value, str) and value else None


def parse_batch(body: str | bytes) -> SyncBatch:
    """The message body as a SyncBatch; InvalidMessage says what is wrong, not the data."""
    try:
        return SyncBatch.model_validate_json(body)
    except ValidationError as exc:
        kinds = {error["type"] for error in exc.errors()}
        if "json_invalid" in kinds or "json_type" in kinds:
            raise InvalidMessage("message body is not JSON") from None
        fields = sorted({".".join(str(p) for p in e["loc"]) or "body" for e in exc.errors()})
        raise InvalidMessage(
            f"message body is not a valid batch ({len(exc.errors())} problem(s) in: "
            + ", ".join(fields[:10])
            + ")"
        ) from None
