"""Queue records built the way the fetch builds them, and the errors of records Marketo
refused, for tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from leadsync.mapping.fieldmap import default_field_map
from leadsync.models import Visitor
from leadsync.sync.failures import ErrorEntry, from_record
from leadsync.sync.fetch.decide import candidate
from leadsync.sync.messages import SyncRecord


def record_for(visitor: Visitor) -> SyncRecord:
    """The create a new visitor becomes."""
    return SyncRecord(
        action="create",
        email=visitor.email,
        fields=candidate(visitor, default_field_map()),
        last_chat_at=visitor.last_chat_at,
        chat_ids=visitor.chat_ids,
    )


def refused_records(count: int, detail: str, at: datetime, **more: Any) -> list[ErrorEntry]:
    """The error entries of `count` records Marketo refused with 1003: refused0@example.com
    (chat U0) and on."""
    return [
        from_record(
            record_for(Visitor(email=f"refused{i}@example.com", chat_ids=[f"U{i}"])),
            reason="marketo_1003",
            detail=detail,
            at=at,
            code="1003",
            **more,
        )
        for i in range(count)
    ]
