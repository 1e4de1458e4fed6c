"""Queue records built the way the fetch builds them, for tests."""

from __future__ import annotations

from leadsync.mapping.fieldmap import default_field_map
from leadsync.models import Visitor
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
