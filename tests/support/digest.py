"""The digest function run as Lambda would against moto, and what it sends: the e-mail the
emulated SES accepted, a verified sender, a dead-lettered batch with its failures."""

from __future__ import annotations

import json
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

import boto3

from leadsync.models import Visitor
from leadsync.sync.messages import FailureNote, SyncBatch
from local.moto_server import SES_MESSAGES_PATH
from tests.support.handlers import event, load_handler
from tests.support.lambda_context import FakeLambdaContext
from tests.support.records import record_for

ZONE = "America/Chicago"


def accepted_mail(moto_url: str, message_id: str) -> dict[str, Any]:
    """The e-mail the emulated SES accepted under `message_id`, both parts."""
    with urllib.request.urlopen(f"{moto_url}{SES_MESSAGES_PATH}", timeout=30) as answer:  # noqa: S310
        messages: list[dict[str, Any]] = json.loads(answer.read())
    (mail,) = [m for m in messages if m["id"] == message_id]
    return mail


def verified_sender() -> str:
    sender = f"leadsync-{uuid.uuid4().hex[:8]}@example.com"
    boto3.client("sesv2").create_email_identity(EmailIdentity=sender)
    return sender


def dead_letter_batch(correlation: str, code: str, message: str, records: int = 2) -> SyncBatch:
    at = datetime.now(UTC) - timedelta(hours=1)
    visitors = [
        Visitor(email=f"{correlation}.{i}@example.com", chat_ids=[f"{correlation}-{i}"])
        for i in range(records)
    ]
    return SyncBatch(
        correlation_id=correlation,
        created_at=at - timedelta(hours=1),
        records=[record_for(visitor) for visitor in visitors],
        attempts=4,
        failures=[
            FailureNote(
                at=at - timedelta(minutes=40 - 10 * n),
                attempt=n + 1,
                code=code,
                message=message,
                request=f"createOnly {records} records",
            )
            for n in range(4)
        ],
    )


def digest_handler() -> ModuleType:
    module = load_handler("digest")
    module.environment.cache_clear()
    return module


def invoke(context: FakeLambdaContext) -> dict[str, Any]:
    summary: dict[str, Any] = digest_handler().handler(event("digest_schedule.json"), context)
    return summary
