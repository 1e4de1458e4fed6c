from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from leadsync.models import MAX_TAGS, Rejection, RejectionReason, Visitor
from leadsync.sync.messages import SyncBatch
from tests.support.records import record_for


def test_visitor_normalizes_and_sanitizes() -> None:
    visitor = Visitor(
        email=" Jane.Doe@Example.com ",
        first_name="Ja\x00ne",
        city="",
        tags=["vip", "sales", "vip", "\x07"],
        chat_ids=["C2", "C1", "C2"],
        first_chat_at=datetime(2026, 1, 15, 14, 0, tzinfo=timezone(timedelta(hours=2))),
    )
    assert visitor.email == "jane.doe@example.com"
    assert visitor.first_name == "Jane"
    assert visitor.city is None
    assert visitor.tags == ["sales", "vip"]
    assert visitor.chat_ids == ["C1", "C2"]
    assert visitor.first_chat_at == datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def test_visitor_refuses_invalid_email_and_extra_fields() -> None:
    with pytest.raises(ValidationError):
        Visitor(email="not-an-email")
    with pytest.raises(ValidationError):
        Visitor.model_validate({"email": "a@example.com", "password": "x"})


def test_visitor_caps_tags() -> None:
    visitor = Visitor(email="a@example.com", tags=[f"t{i:03d}" for i in range(200)])
    assert len(visitor.tags) == MAX_TAGS


def test_rejection_cleans_its_text() -> None:
    rejection = Rejection(
        chat_id="\x00", reason=RejectionReason.INVALID_EMAIL, detail="x" * 2000, value="a@\x07"
    )
    assert rejection.chat_id == "unknown"
    assert len(rejection.detail) == 500
    assert rejection.value == "a@"


def test_batch_round_trips_through_json() -> None:
    visitor = Visitor(
        email="a@example.com",
        first_name="Zoë",
        chat_ids=["C1"],
        last_chat_at=datetime(2026, 1, 15, tzinfo=UTC),
    )
    batch = SyncBatch(
        correlation_id="abc",
        created_at=datetime(2026, 1, 15, tzinfo=UTC),
        records=[record_for(visitor)],
    )
    assert SyncBatch.model_validate_json(batch.model_dump_json()) == batch


def test_batch_needs_records() -> None:
    with pytest.raises(ValidationError):
        SyncBatch(correlation_id="abc", created_at=datetime(2026, 1, 15, tzinfo=UTC), records=[])
