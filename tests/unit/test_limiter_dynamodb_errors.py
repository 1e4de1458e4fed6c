"""DynamoDB errors become the project's exceptions once, in the adapter (no network here)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from leadsync.errors import DependencyError, RateLimited
from leadsync.limiter.api import Outcome, Permit
from leadsync.limiter.config import LimiterConfig
from leadsync.limiter.dynamodb import DynamoDBLimiter


def stubbed() -> tuple[DynamoDBLimiter, Stubber]:
    client: Any = boto3.client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    return DynamoDBLimiter("t", LimiterConfig(), client), Stubber(client)


@pytest.mark.parametrize(
    ("code", "kind", "retryable"),
    [
        ("ProvisionedThroughputExceededException", RateLimited, True),
        ("ThrottlingException", RateLimited, True),
        ("InternalServerError", DependencyError, True),
        ("ValidationException", DependencyError, False),
    ],
)
def test_acquire_translates_errors(code: str, kind: type[Exception], retryable: bool) -> None:
    limiter, stub = stubbed()
    stub.add_response("get_item", {})
    stub.add_client_error("update_item", service_error_code=code, http_status_code=400)
    with stub, pytest.raises(kind) as raised:
        limiter.acquire(deadline_monotonic=float("inf"))
    assert getattr(raised.value, "retryable", None) is retryable
    assert raised.value.__cause__ is not None  # raise ... from exc


def test_release_never_raises() -> None:
    limiter, stub = stubbed()
    stub.add_client_error("update_item", service_error_code="ThrottlingException")
    with stub:
        limiter.release(Permit("l", acquired_at_ms=0, expires_at_ms=1), Outcome.DONE)
    assert limiter.stats.release_errors == 1
