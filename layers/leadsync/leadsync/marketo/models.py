"""Typed views of what Marketo answers; raw JSON never leaves the client."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

# Record-level reasons the client produces itself (never sent to Marketo).
LOCAL_RECORD_TOO_LARGE = "local:record-too-large"
SKIPPED = "skipped"


def _text(value: object) -> object:
    # Marketo quotes codes ("606") but some answers and proxies send numbers.
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


Code = Annotated[str, BeforeValidator(_text)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class MarketoReason(_Model):
    code: Code
    message: str = ""


class Envelope(_Model):
    """The wrapper of every REST answer, success or not."""

    request_id: str | None = Field(default=None, alias="requestId")
    success: bool
    result: list[Any] = Field(default_factory=list)
    errors: list[MarketoReason] = Field(default_factory=list)
    warnings: list[Any] = Field(default_factory=list)
    more_result: bool = Field(default=False, alias="moreResult")
    next_page_token: str | None = Field(default=None, alias="nextPageToken")

    @field_validator("result", "errors", "warnings", mode="before")
    @classmethod
    def _null_is_empty(cls, value: object) -> object:
        return [] if value is None else value


class RecordResult(_Model):
    """What became of one input record; `index` is its position in the caller's input."""

    index: int
    id: int | None = None
    status: str
    reasons: tuple[MarketoReason, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status != SKIPPED

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(reason.code for reason in self.reasons)


class Lead(_Model):
    id: int
    fields: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def from_raw(cls, raw: dict[str, Any]) -> Lead:
        return cls(id=raw["id"], fields={k: v for k, v in raw.items() if k != "id"})

    def get(self, name: str) -> Any:
        return self.fields.get(name)


class _Daily(_Model):
    """A day of stats/*.json: the day and its total."""

    date: dt.date | None = None
    total: int = 0


class UserUsage(_Model):
    user_id: str = Field(alias="userId")
    count: int


class Usage(_Daily):
    """Calls the whole instance (every integration) used today, per Marketo's own count."""

    users: tuple[UserUsage, ...] = ()


class ErrorCount(_Model):
    code: Code = Field(alias="errorCode")
    count: int


class ErrorStats(_Daily):
    errors: tuple[ErrorCount, ...] = ()


class ImportJob(_Model):
    batch_id: int = Field(alias="batchId")
    status: str
    processed: int = Field(default=0, alias="numOfLeadsProcessed")
    failed: int = Field(default=0, alias="numOfRowsFailed")
    warnings: int = Field(default=0, alias="numOfRowsWithWarning")
    message: str = ""

    @property
    def finished(self) -> bool:
        return self.status in {"Complete", "Failed"}
