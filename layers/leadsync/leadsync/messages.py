"""The queue message between fetch and upload: a batch of visitors and their chats."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from leadsync.models import IdList, Visitor


class SyncRecord(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    visitor: Visitor
    chat_ids: IdList


class SyncBatch(BaseModel):
    """One SQS message: at most one destination call's worth of records."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    correlation_id: str = Field(min_length=1, max_length=128)
    created_at: AwareDatetime
    records: list[SyncRecord] = Field(min_length=1)


def record_for(visitor: Visitor) -> SyncRecord:
    return SyncRecord(visitor=visitor, chat_ids=visitor.chat_ids)
