"""LiveChat webhook deliveries → the priority lane, answered well inside LiveChat's 10 s.

A delivery is checked, in this order, and answered:

- 413 when the body is over MAX_BODY_BYTES, 400 when it is not a JSON object;
- 401 when its `secret_key` is not the configured one (compared in constant time; nothing
  of the body is looked at before);
- 200 `ignored` for actions other than `incoming_chat` (the hourly sync covers them), and
  for a chat that maps to no visitor yet (no e-mail given: the hourly sync decides later);
- 200 `duplicate` for a chat thread already taken (LiveChat retries deliveries it thinks
  failed): a conditional write in the state table keyed by chat and thread;
- 202 `queued` once the visitor is on the priority queue, as a batch the upload decides
  against a fresh lookup (`lookup_first`) before writing.

The webhook makes no Marketo call: the upload's priority lane does, with its own reserved
share of the rate and of the daily quota. If queueing fails the mark is taken back and the
answer is 503, so LiveChat's retry gets another chance; should the function die in between,
the hourly sync still reads the chat from the archives.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from leadsync.mapping.fieldmap import FieldMap, default_field_map
from leadsync.mapping.livechat_to_visitor import map_entries
from leadsync.models import Visitor
from leadsync.ports import BatchSink
from leadsync.runtime.observability import get_logger, mask_email
from leadsync.sync.fetch.batching import (
    SQS_HEADROOM_BYTES,
    SQS_MAX_MESSAGE_BYTES,
    body_bytes,
    new_correlation_id,
)
from leadsync.sync.fetch.decide import candidate
from leadsync.sync.messages import SyncBatch, SyncRecord

MAX_BODY_BYTES = 1_048_576
ACCEPTED_ACTIONS = frozenset({"incoming_chat"})


class Deliveries(Protocol):
    def take(self, chat_id: str, thread_id: str) -> bool:
        """Mark this chat thread taken; False when it was already."""
        ...

    def give_back(self, chat_id: str, thread_id: str) -> None: ...


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any] = field(default_factory=dict)


def handle(
    body: str | bytes | None,
    *,
    secret_key: str,
    deliveries: Deliveries,
    queue: BatchSink,
    now: datetime,
    field_map: FieldMap | None = None,
    new_id: Any = new_correlation_id,
) -> Answer:
    delivery = _json_object(body)
    if isinstance(delivery, Answer):
        return delivery
    if not _secret_matches(delivery.get("secret_key"), secret_key):
        get_logger().warning("webhook refused: wrong or missing secret key")
        return Answer(401, {"error": "unauthorized"})
    action = delivery.get("action")
    if action not in ACCEPTED_ACTIONS:
        return Answer(200, {"result": "ignored", "reason": f"action {str(action)[:40]!r}"})
    thread = _chat_thread(delivery)
    if isinstance(thread, Answer):
        return thread
    mapped = map_entries([thread.chat], not_after=None)
    if not mapped.visitors:
        reason = mapped.rejections[0].reason.value if mapped.rejections else "no visitor"
        return Answer(200, {"result": "ignored", "reason": reason})
    fmap = field_map or default_field_map()
    correlation_id = new_id()
    get_logger().append_keys(correlation_id=correlation_id)
    if not deliveries.take(thread.chat_id, thread.thread_key):
        get_logger().info("webhook delivery already taken", extra={"chat_id": thread.chat_id})
        return Answer(200, {"result": "duplicate"})
    visitor = mapped.visitors[0]
    batch = _visitor_batch(visitor, fmap, correlation_id, now)
    return _queue(batch, visitor.email, thread, deliveries, queue)


@dataclass(frozen=True)
class _ChatThread:
    chat: dict[str, Any]
    chat_id: str
    thread_key: str  # "-" when the delivery names no usable thread


def _json_object(body: str | bytes | None) -> dict[str, Any] | Answer:
    """The delivery as a JSON object, or the answer that refuses it (413, 400)."""
    raw = body.encode() if isinstance(body, str) else (body or b"")
    if len(raw) > MAX_BODY_BYTES:
        return Answer(413, {"error": f"body over {MAX_BODY_BYTES} bytes"})
    try:
        delivery = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return Answer(400, {"error": "body is not JSON"})
    if not isinstance(delivery, dict):
        return Answer(400, {"error": "body is not a JSON object"})
    return delivery


def _secret_matches(given: object, secret_key: str) -> bool:
    """Compared in constant time, whatever was given."""
    return isinstance(given, str) and hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), secret_key.encode("utf-8")
    )


def _chat_thread(delivery: dict[str, Any]) -> _ChatThread | Answer:
    """The chat of an `incoming_chat` delivery and its thread, or the 400 that refuses it."""
    payload = delivery.get("payload")
    chat = payload.get("chat") if isinstance(payload, dict) else None
    if not isinstance(chat, dict):
        return Answer(400, {"error": "incoming_chat without payload.chat"})
    chat_id = chat.get("id")
    thread = chat.get("thread")
    thread_id = thread.get("id") if isinstance(thread, dict) else None
    if not isinstance(chat_id, str) or not chat_id or len(chat_id) > 128:
        return Answer(400, {"error": "payload.chat has no usable id"})
    thread_key = thread_id if isinstance(thread_id, str) and len(thread_id) <= 128 else "-"
    return _ChatThread(chat, chat_id, thread_key)


def _visitor_batch(
    visitor: Visitor, fmap: FieldMap, correlation_id: str, now: datetime
) -> SyncBatch:
    """The visitor's create, to be decided against a fresh lookup by the upload."""
    return SyncBatch(
        correlation_id=correlation_id,
        created_at=now,
        records=[
            SyncRecord(
                action="create",
                email=visitor.email,
                fields=candidate(visitor, fmap),
                last_chat_at=visitor.last_chat_at,
                chat_ids=visitor.chat_ids,
            )
        ],
        lookup_first=True,
    )


def _queue(
    batch: SyncBatch, email: str, thread: _ChatThread, deliveries: Deliveries, queue: BatchSink
) -> Answer:
    """The taken thread's batch on the priority queue: 202, or 503 with the thread given back."""
    logger = get_logger()
    if body_bytes(batch) > SQS_MAX_MESSAGE_BYTES - SQS_HEADROOM_BYTES:
        logger.warning("webhook visitor too large to queue", extra={"chat_id": thread.chat_id})
        return Answer(200, {"result": "ignored", "reason": "visitor too large"})
    try:
        queue.send_batches([batch])
    except Exception:
        deliveries.give_back(thread.chat_id, thread.thread_key)
        logger.exception(
            "webhook visitor not queued", extra={"correlation_id": batch.correlation_id}
        )
        return Answer(503, {"error": "not queued, try again"})
    logger.info(
        "webhook visitor queued",
        extra={
            "correlation_id": batch.correlation_id,
            "chat_id": thread.chat_id,
            "email": mask_email(email),
        },
    )
    return Answer(202, {"result": "queued", "correlation_id": batch.correlation_id})
