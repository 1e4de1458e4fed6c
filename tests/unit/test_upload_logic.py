from __future__ import annotations

import json
from pathlib import Path

import pytest

from leadsync.errors import InvalidMessage
from leadsync.upload import parse_batch, process

ROOT = Path(__file__).resolve().parents[2]


def _sample_body() -> str:
    event = json.loads((ROOT / "events" / "upload_sqs.json").read_text())
    body: str = event["Records"][0]["body"]
    return body


def test_a_valid_batch_is_counted_and_not_pretended_written() -> None:
    result = process(_sample_body())
    assert result.records == 2
    assert result.written == 0
    assert result.pending_destination is True


@pytest.mark.parametrize("body", ["", "not json", "[1,2", "\x00"])
def test_a_body_that_is_not_json(body: str) -> None:
    with pytest.raises(InvalidMessage, match="not JSON"):
        parse_batch(body)


@pytest.mark.parametrize(
    "body",
    [
        "[]",
        "42",
        '{"correlation_id": "x"}',
        '{"correlation_id": "x", "created_at": "2026-01-15T13:00:00Z", "records": []}',
        '{"correlation_id": "x", "created_at": "2026-01-15T13:00:00Z",'
        ' "records": [{"visitor": {"email": "not-an-email"}, "chat_ids": []}]}',
    ],
)
def test_a_body_that_is_not_a_batch(body: str) -> None:
    with pytest.raises(InvalidMessage, match="not a valid batch") as caught:
        parse_batch(body)
    assert "not-an-email" not in str(caught.value)
