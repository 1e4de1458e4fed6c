"""Create claims against moto in server mode, on a table built from template.yaml."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import boto3
import pytest

from leadsync.adapters.claims import ClaimResult, CreateClaims, claim_key
from leadsync.errors import ConfigurationError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

pytestmark = pytest.mark.integration
T0 = datetime(2026, 3, 8, 5, 30, tzinfo=UTC)
LEASE = timedelta(minutes=5)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class RecordingClient:
    """The real client, counting the calls that reach it."""

    def __init__(self) -> None:
        self._client = boto3.client("dynamodb")
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        def call(**kwargs: Any) -> Any:
            self.calls.append(name)
            return method(**kwargs)

        return call


def _claims(table: str, clock: Clock, client: RecordingClient | None = None) -> CreateClaims:
    return CreateClaims(table, cast("DynamoDBClient | None", client), clock=clock)


def _items(table: str) -> list[dict[str, Any]]:
    return cast("list[dict[str, Any]]", boto3.client("dynamodb").scan(TableName=table)["Items"])


def _emails(count: int, prefix: str = "visitor") -> list[str]:
    return [f"{prefix}{i}@example.com" for i in range(count)]


def test_free_emails_are_claimed_and_then_held_for_others(state_table: str) -> None:
    clock = Clock(T0)
    first, second = _claims(state_table, clock), _claims(state_table, clock)
    assert first.claim(["a@example.com", "b@example.com"], "msg-1", LEASE) == ClaimResult(
        claimed=("a@example.com", "b@example.com"), held=()
    )
    result = second.claim(["c@example.com", "a@example.com", "b@example.com"], "msg-2", LEASE)
    assert result == ClaimResult(
        claimed=("c@example.com",), held=("a@example.com", "b@example.com")
    )
    assert first.requests == 2  # one conditional write per e-mail
    assert second.requests == 3


def test_the_same_holder_claims_its_own_again(state_table: str) -> None:
    clock = Clock(T0)
    claims = _claims(state_table, clock)
    claims.claim(["a@example.com"], "msg-1", LEASE)
    clock.now = T0 + timedelta(minutes=1)
    assert claims.claim(["a@example.com"], "msg-1", LEASE).claimed == ("a@example.com",)
    [item] = _items(state_table)
    assert item["holder"] == {"S": "msg-1"}
    assert int(item["expires_at"]["N"]) == int((clock.now + LEASE).timestamp())


def test_an_expired_claim_is_taken_over(state_table: str) -> None:
    clock = Clock(T0)
    claims = _claims(state_table, clock)
    claims.claim(["a@example.com"], "msg-1", LEASE)
    clock.now = T0 + LEASE
    assert claims.claim(["a@example.com"], "msg-2", LEASE).held == ("a@example.com",)
    clock.now = T0 + LEASE + timedelta(seconds=1)
    assert claims.claim(["a@example.com"], "msg-2", LEASE).claimed == ("a@example.com",)
    [item] = _items(state_table)
    assert item["holder"] == {"S": "msg-2"}


def test_release_deletes_only_the_holders_own_claims(state_table: str) -> None:
    clock = Clock(T0)
    claims = _claims(state_table, clock)
    claims.claim(["a@example.com", "b@example.com"], "msg-1", LEASE)
    claims.claim(["c@example.com"], "msg-2", LEASE)
    claims.release(["a@example.com", "c@example.com", "never@example.com"], "msg-1")
    assert sorted(item["pk"]["S"] for item in _items(state_table)) == sorted(
        [claim_key("b@example.com"), claim_key("c@example.com")]
    )
    assert claims.claim(["a@example.com"], "msg-3", LEASE).claimed == ("a@example.com",)
    assert claims.claim(["c@example.com"], "msg-3", LEASE).held == ("c@example.com",)


def test_duplicates_are_claimed_once_in_input_order(state_table: str) -> None:
    claims = _claims(state_table, Clock(T0))
    emails = ["b@example.com", "a@example.com", "b@example.com", " A@Example.com "]
    assert claims.claim(emails, "msg-1", LEASE) == ClaimResult(
        claimed=("b@example.com", "a@example.com"), held=()
    )
    assert len(_items(state_table)) == 2


def test_no_email_is_stored_in_clear(state_table: str) -> None:
    emails = ["Jane.Doe@example.com", "john@corp.example"]
    _claims(state_table, Clock(T0)).claim(emails, "msg-1", LEASE)
    items = _items(state_table)
    assert len(items) == 2
    stored = json.dumps(items).lower()
    for email in emails:
        for part in email.lower().split("@"):
            assert part not in stored
    for item in items:
        assert re.fullmatch(r"claim#create#[0-9a-f]{64}", item["pk"]["S"])
        assert item["sk"] == {"S": "claim"}
        assert set(item) == {"pk", "sk", "holder", "expires_at"}


def test_hundreds_of_emails_one_conditional_write_each(state_table: str) -> None:
    clock = Clock(T0)
    client = RecordingClient()
    others = _claims(state_table, clock)
    emails = _emails(250)
    taken = [emails[5], emails[99], emails[100], emails[249]]
    others.claim(taken, "msg-other", LEASE)

    claims = _claims(state_table, clock, client)
    result = claims.claim(emails, "msg-1", LEASE)
    assert result.held == tuple(taken)
    assert result.claimed == tuple(email for email in emails if email not in taken)
    assert client.calls == ["put_item"] * 250
    assert claims.requests == 250
    assert len(_items(state_table)) == 250

    claims.release(emails, "msg-1")
    assert claims.requests == 250 + 250
    assert sorted(item["pk"]["S"] for item in _items(state_table)) == sorted(
        claim_key(email) for email in taken
    )


def test_nothing_to_claim_costs_nothing(state_table: str) -> None:
    claims = _claims(state_table, Clock(T0))
    assert claims.claim([], "msg-1", LEASE) == ClaimResult(claimed=(), held=())
    claims.release([], "msg-1")
    assert claims.requests == 0


def test_invalid_arguments(state_table: str) -> None:
    claims = _claims(state_table, Clock(T0))
    with pytest.raises(ValueError, match="empty"):
        claims.claim(["  "], "msg-1", LEASE)
    with pytest.raises(ValueError, match="holder"):
        claims.claim(["a@example.com"], "", LEASE)
    with pytest.raises(ValueError, match="lease"):
        claims.claim(["a@example.com"], "msg-1", timedelta(0))
    assert claims.requests == 0


def test_a_missing_table_is_a_configuration_error(moto_server: str) -> None:
    claims = CreateClaims("no-such-table", clock=Clock(T0))
    with pytest.raises(ConfigurationError, match="STATE_TABLE"):
        claims.claim(["a@example.com"], "msg-1", LEASE)
    with pytest.raises(ConfigurationError):
        claims.release(["a@example.com"], "msg-1")
