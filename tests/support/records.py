"""Queue records built the way the fetch builds them, for tests."""

from __future__ import annotations

from leadsync.diff import candidate
from leadsync.fieldmap import default_field_map
from leadsync.messages import SyncRecord
from leadsync.models import Visitor


def record_for(visitor: Visitor) -> SyncRecord:
    """The create a new visitor becomes."""
    return SyncRecord(
        action="create",
        email=visitor.email,
        fields=candidate(visitor, default_field_map()),
        last_chat_at=visitor.last_chat_at,
        chat_ids=visitor.chat_ids,
    )
