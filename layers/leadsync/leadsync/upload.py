"""The upload: one queue message → a validated batch → the destination.

Writing to Marketo arrives with the Marketo client and the shared limiter; until then the
batch is validated and reported as still pending for the destination, never as written.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, ValidationError

from leadsync.errors import InvalidMessage
from leadsync.messages import SyncBatch


class UploadResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    correlation_id: str
    records: int
    written: int = 0
    pending_destination: bool = True


def parse_batch(body: str | bytes) -> SyncBatch:
    """The message body as a SyncBatch; InvalidMessage says what is wrong, not the data."""
    try:
        return SyncBatch.model_validate_json(body)
    except ValidationError as exc:
        kinds = {error["type"] for error in exc.errors()}
        if "json_invalid" in kinds or "json_type" in kinds:
            raise InvalidMessage("message body is not JSON") from None
        fields = sorted({".".join(str(p) for p in e["loc"]) or "body" for e in exc.errors()})
        raise InvalidMessage(
            f"message body is not a valid batch ({len(exc.errors())} problem(s) in: "
            + ", ".join(fields[:10])
            + ")"
        ) from None


def process(body: str | bytes) -> UploadResult:
    batch = parse_batch(body)
    return UploadResult(correlation_id=batch.correlation_id, records=len(batch.records))
