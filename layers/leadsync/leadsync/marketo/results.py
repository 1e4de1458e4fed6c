"""What an answer's `result` holds, as typed models: record-level results mapped back to
input positions, leads, and the other objects Marketo lists."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from leadsync.marketo.errors import MarketoBadResponse
from leadsync.marketo.models import (
    LOCAL_RECORD_TOO_LARGE,
    SKIPPED,
    Envelope,
    ErrorStats,
    Lead,
    MarketoReason,
    RecordResult,
    Usage,
)


def too_large(index: int, size: int, limit: int) -> RecordResult:
    """A record that cannot fit any call: rejected here, never sent."""
    reason = MarketoReason(
        code=LOCAL_RECORD_TOO_LARGE,
        message=f"record is {size} bytes encoded; a call body may hold at most {limit} bytes",
    )
    return RecordResult(index=index, status=SKIPPED, reasons=(reason,))


def map_results(indices: Sequence[int], envelope: Envelope) -> list[RecordResult]:
    """Marketo answers one result per input, in input order; anything else cannot be mapped."""
    if len(envelope.result) != len(indices):
        raise MarketoBadResponse(
            "local:result-count",
            f"{len(envelope.result)} results for {len(indices)} inputs",
            request_id=envelope.request_id,
        )
    out = []
    for index, raw in zip(indices, envelope.result, strict=True):
        out.append(_one(index, raw, envelope.request_id))
    return out


def _one(index: int, raw: Any, request_id: str | None) -> RecordResult:
    if not isinstance(raw, dict):
        raise MarketoBadResponse(
            "local:bad-result", "a record result is not an object", request_id=request_id
        )
    try:
        return RecordResult.model_validate({**raw, "index": index})
    except ValidationError:
        raise MarketoBadResponse(
            "local:bad-result", "malformed record result", request_id=request_id
        ) from None


def lead_of(raw: Any, envelope: Envelope) -> Lead:
    if not isinstance(raw, dict) or "id" not in raw:
        raise MarketoBadResponse(
            "local:bad-result", "a lead without an id", request_id=envelope.request_id
        )
    try:
        return Lead.from_raw(raw)
    except ValidationError:
        raise MarketoBadResponse(
            "local:bad-result", "malformed lead", request_id=envelope.request_id
        ) from None


def parsed[Item: BaseModel](model: type[Item], raw: Any, envelope: Envelope) -> Item:
    try:
        return model.model_validate(raw)
    except ValidationError:
        raise MarketoBadResponse(
            "local:bad-result", f"malformed {model.__name__}", request_id=envelope.request_id
        ) from None


def first[Stats: (Usage, ErrorStats)](model: type[Stats], envelope: Envelope) -> Stats:
    """The day's figures of a stats answer; zeros when it lists none."""
    return parsed(model, envelope.result[0], envelope) if envelope.result else model()
