"""A chat as the Marketo custom activity written for it: built from the chat's facts under
the activity map, and given the shape Marketo's Add Custom Activities call takes.

One activity per LiveChat chat, on the lead of the visitor's e-mail; Marketo keeps
activities as written (there is no update), so the record is complete when it is built.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PositiveInt,
    StringConstraints,
    field_validator,
    model_validator,
)

from leadsync.activities.config import ActivityMap, AttributeRule, DataType
from leadsync.activities.facts import ChatFacts
from leadsync.models import MAX_ID_LENGTH, Email
from leadsync.runtime.clock import as_utc

# what Marketo takes of one activity's attributes (error 1049 beyond)
MAX_ATTRIBUTES_BYTES = 65_536

AttributeValue = str | int | float | bool
ChatId = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ID_LENGTH)]


class ChatActivity(BaseModel):
    """The activity of one chat: on whose lead, when, and its attributes by apiName (an
    attribute the chat has no value for is left out)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    chat_id: ChatId
    email: Email
    lead_id: PositiveInt | None = None  # None while the lead is still to be created
    activity_date: AwareDatetime
    primary_value: ChatId
    attributes: dict[str, AttributeValue] = Field(default_factory=dict)

    @field_validator("activity_date")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return as_utc(value)

    @model_validator(mode="after")
    def _fits_marketo(self) -> Self:
        size = attributes_size(self.attributes)
        if size > MAX_ATTRIBUTES_BYTES:
            raise ValueError(
                f"attributes take {size} bytes, more than Marketo's {MAX_ATTRIBUTES_BYTES}"
            )
        return self

    def on_lead(self, lead_id: int) -> ChatActivity:
        """The same activity on the lead now known by its id."""
        return ChatActivity.model_validate({**self.model_dump(), "lead_id": lead_id})


def activity_for(
    facts: ChatFacts, amap: ActivityMap, email: str, lead_id: int | None = None
) -> ChatActivity:
    """The activity of a chat on the lead of `email` (a valid address: the visitor's).

    Each attribute gets its source's value, a text cut to its max_length. When the
    attributes together would take more than Marketo's 65,536 bytes (as JSON with every
    non-ASCII character escaped, the largest form they can take on the way), the longest
    text is cut first, as much as needed, then the next longest; a text cut to nothing is
    left out. Numbers and times are never cut.
    """
    values: dict[str, AttributeValue] = {}
    for api_name, rule in amap.attributes.items():
        value = _value(facts.fact(rule.source), rule)
        if value is not None:
            values[api_name] = value
    return ChatActivity(
        chat_id=facts.chat_id,
        email=email,
        lead_id=lead_id,
        activity_date=facts.started_at,
        primary_value=facts.chat_id,
        attributes=_fit(values),
    )


def _value(value: str | int | datetime | None, rule: AttributeRule) -> AttributeValue | None:
    if isinstance(value, datetime):
        return marketo_time(value) if rule.data_type is DataType.DATETIME else None
    if isinstance(value, str):
        return value[: rule.length].rstrip() or None
    return value


def marketo_time(moment: datetime) -> str:
    """ISO 8601 in UTC with its offset, to the second: `2026-01-15T12:00:00+00:00`."""
    return as_utc(moment).isoformat(timespec="seconds")


def attributes_size(attributes: dict[str, AttributeValue]) -> int:
    """The bytes the attributes take as Marketo's `attributes` list, non-ASCII escaped."""
    return len(json.dumps(_listed(attributes)))


def _fit(values: dict[str, AttributeValue]) -> dict[str, AttributeValue]:
    fitted = dict(values)
    while (excess := attributes_size(fitted) - MAX_ATTRIBUTES_BYTES) > 0:
        texts = [name for name, value in fitted.items() if isinstance(value, str)]
        if not texts:
            break  # numbers alone never come near the limit
        longest = max(texts, key=lambda name: _escaped_size(str(fitted[name])))
        cut = _cut(str(fitted[longest]), excess)
        if cut:
            fitted[longest] = cut
        else:
            del fitted[longest]
    return fitted


def _cut(text: str, excess: int) -> str:
    """The longest start of `text` whose JSON form is at least `excess` bytes smaller."""
    target = _escaped_size(text) - excess
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if _escaped_size(text[:middle]) <= target:
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip()


def _escaped_size(text: str) -> int:
    return len(json.dumps(text))


def _listed(attributes: dict[str, AttributeValue]) -> list[dict[str, AttributeValue]]:
    return [{"apiName": name, "value": value} for name, value in attributes.items()]


def to_marketo(activity: ChatActivity, activity_type_id: int) -> dict[str, Any]:
    """The activity as one `input` record of Marketo's Add Custom Activities call:
    `{leadId, activityDate, activityTypeId, primaryAttributeValue, attributes}`, the
    attributes as `[{apiName, value}]`. The lead's id must be known by then."""
    if activity.lead_id is None:
        raise ValueError(f"chat {activity.chat_id}: the lead's id is not known yet")
    if isinstance(activity_type_id, bool) or activity_type_id < 1:
        raise ValueError(f"activity type id {activity_type_id!r} is not a Marketo id")
    return {
        "leadId": activity.lead_id,
        "activityDate": marketo_time(activity.activity_date),
        "activityTypeId": activity_type_id,
        "primaryAttributeValue": activity.primary_value,
        "attributes": _listed(activity.attributes),
    }
