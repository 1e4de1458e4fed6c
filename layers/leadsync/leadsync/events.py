"""The Lambda events leadsync accepts, as models; anything else is refused clearly."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from leadsync.errors import InvalidEvent


class ScheduledEvent(BaseModel):
    """An EventBridge rule's `Scheduled Event` (what SAM's `Schedule` event source sends)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    id: str
    version: str = "0"
    detail_type: Literal["Scheduled Event"] = Field(alias="detail-type")
    source: Literal["aws.events"]
    account: str
    time: AwareDatetime
    region: str
    resources: list[str] = Field(default_factory=list)
    detail: dict[str, Any] = Field(default_factory=dict)


def parse_scheduled_event(event: object) -> ScheduledEvent:
    try:
        return ScheduledEvent.model_validate(event)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"]) or "event" for e in exc.errors()})
        raise InvalidEvent(
            "expected an EventBridge Scheduled Event; problems with: " + ", ".join(fields)
        ) from None
