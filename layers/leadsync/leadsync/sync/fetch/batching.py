"""Split records into queue messages that each fit one destination call and one SQS message."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from leadsync.sync.messages import SyncBatch, SyncRecord

SQS_MAX_MESSAGE_BYTES = 262_144
SQS_HEADROOM_BYTES = 8_192


@dataclass(frozen=True)
class BatchLimits:
    max_records: int
    max_body_bytes: int

    def __post_init__(self) -> None:
        if self.max_records < 1 or self.max_body_bytes < 1:
            raise ValueError("batch limits must be positive")

    @classmethod
    def for_queue(cls, records_per_call: int, max_body_bytes: int) -> BatchLimits:
        """The destination's limits, tightened to what one SQS message can carry."""
        body = min(max_body_bytes, SQS_MAX_MESSAGE_BYTES - SQS_HEADROOM_BYTES)
        return cls(max_records=records_per_call, max_body_bytes=body)


@dataclass(frozen=True)
class BatchPlan:
    batches: list[SyncBatch] = field(default_factory=list)
    oversized: list[SyncRecord] = field(default_factory=list)

    @property
    def records(self) -> int:
        return sum(len(batch.records) for batch in self.batches)


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def body_bytes(batch: SyncBatch) -> int:
    return len(batch.model_dump_json().encode())


def plan_batches(
    records: Sequence[SyncRecord],
    limits: BatchLimits,
    *,
    created_at: datetime,
    new_id: Callable[[], str] = new_correlation_id,
    combine: bool = False,
) -> BatchPlan:
    """Greedy, order-preserving packing, one kind of write a message; a record too big for
    any message is set apart. Give the records grouped by `write_kind` to fill every message.

    The kinds are createOnly and updateOnly by id; with `combine`, the creates and the
    updates that may go by e-mail are one kind (one createOrUpdate call)."""
    plan = BatchPlan()
    current: list[SyncRecord] = []
    size = 0
    correlation_id = new_id()
    envelope = _envelope_bytes(correlation_id, created_at)
    for record in records:
        record_size = len(record.model_dump_json().encode())
        if envelope + record_size > limits.max_body_bytes:
            plan.oversized.append(record)
            continue
        grown = size + record_size + (1 if current else 0)
        if current and (
            len(current) >= limits.max_records
            or envelope + grown > limits.max_body_bytes
            # a message holds one kind of write, so each message costs one call
            or write_kind(current[0], combine) != write_kind(record, combine)
        ):
            plan.batches.append(_batch(correlation_id, created_at, current))
            correlation_id = new_id()
            envelope = _envelope_bytes(correlation_id, created_at)
            current, grown = [], record_size
            if envelope + record_size > limits.max_body_bytes:
                plan.oversized.append(record)
                size = 0
                continue
        current.append(record)
        size = grown
    if current:
        plan.batches.append(_batch(correlation_id, created_at, current))
    return plan


def write_kind(record: SyncRecord, combine: bool) -> str:
    """The call that writes `record`: "create", "update" (by id) or, with `combine`,
    "write" (createOrUpdate by e-mail, for creates and the updates that may go by e-mail)."""
    if combine and (record.action == "create" or record.by_email):
        return "write"
    return record.action


def _envelope_bytes(correlation_id: str, created_at: datetime) -> int:
    empty = SyncBatch.model_construct(
        correlation_id=correlation_id, created_at=created_at, records=[]
    )
    return len(empty.model_dump_json().encode())


def _batch(correlation_id: str, created_at: datetime, records: list[SyncRecord]) -> SyncBatch:
    return SyncBatch(correlation_id=correlation_id, created_at=created_at, records=list(records))
