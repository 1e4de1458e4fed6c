from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import pytest

from leadsync.adapters.reread import DynamoDBRereads
from leadsync.adapters.state import StateStore
from leadsync.errors import ConditionFailed, ConfigurationError
from leadsync.models import Rejection, RejectionReason
from leadsync.sync.failures import ErrorKind, from_rejection
from leadsync.sync.fetch.reread import Reread

pytestmark = pytest.mark.integration
T0 = datetime(2026, 1, 15, 23, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _rejection(chat_id: str) -> Rejection:
    return Rejection(
        chat_id=chat_id, reason=RejectionReason.INVALID_EMAIL, detail="bad", value="x@y"
    )


def test_the_table_has_the_template_ttl(state_table: str) -> None:
    ttl = boto3.client("dynamodb").describe_time_to_live(TableName=state_table)
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires_at"


def test_high_water_mark_only_moves_forward(state_table: str) -> None:
    store = StateStore(state_table)
    assert store.get_high_water_mark() is None
    store.put_high_water_mark(T0)
    assert store.get_high_water_mark() == T0
    store.put_high_water_mark(T0)
    store.put_high_water_mark(T0 + timedelta(hours=1))
    with pytest.raises(ConditionFailed):
        store.put_high_water_mark(T0)
    assert store.get_high_water_mark() == T0 + timedelta(hours=1)
    assert store.get_high_water_mark("other") is None


def test_error_store_round_trip_and_time_ranges(state_table: str) -> None:
    clock = Clock(T0)
    store = StateStore(state_table, clock=clock)
    first = from_rejection(_rejection("C1"), at=T0, correlation_id="run-1")
    store.record_error(first)
    clock.now = T0 + timedelta(hours=2)
    store.record_errors([from_rejection(_rejection(f"C{i}"), at=clock.now) for i in (2, 3)])

    everything = store.errors_between(None, T0 + timedelta(hours=3))
    assert everything[0].chat_ids == ["C1"]
    assert sorted(e.chat_ids[0] for e in everything) == ["C1", "C2", "C3"]
    [stored] = [e for e in everything if e.chat_ids == ["C1"]]
    assert stored.kind is ErrorKind.REJECTED
    assert stored.correlation_id == "run-1"
    assert stored.record == first.record
    assert stored.first_failure_at == T0
    assert stored.key is not None
    assert stored.key.startswith("error#2026-01-15|")

    later = store.errors_between(T0, T0 + timedelta(hours=3))
    assert sorted(e.chat_ids[0] for e in later) == ["C2", "C3"]
    assert store.errors_between(T0 + timedelta(hours=2), T0 + timedelta(hours=3)) == []
    assert [e.chat_ids for e in store.errors_between(None, T0)] == [["C1"]]


def test_error_items_expire(state_table: str) -> None:
    store = StateStore(state_table, clock=lambda: T0)
    store.record_error(from_rejection(_rejection("C1"), at=T0))
    items = boto3.client("dynamodb").scan(TableName=state_table)["Items"]
    [item] = items
    assert item["pk"]["S"] == "error#2026-01-15"
    assert int(item["expires_at"]["N"]) == int((T0 + timedelta(days=35)).timestamp())


def test_digest_watermark(state_table: str) -> None:
    store = StateStore(state_table)
    assert store.get_digest_watermark() is None
    store.put_digest_watermark(T0)
    assert store.get_digest_watermark() == T0


def test_a_missing_table_is_a_configuration_error(moto_server: str) -> None:
    with pytest.raises(ConfigurationError, match="STATE_TABLE"):
        StateStore("no-such-table").get_high_water_mark()


def _reread(read_from: datetime, imported_until: datetime) -> Reread:
    return Reread(
        read_from=read_from,
        staged_at=read_from,
        imported_from=imported_until - timedelta(hours=1),
        imported_until=imported_until,
    )


def test_a_request_to_read_again_keeps_the_earliest_start(state_table: str) -> None:
    rereads = DynamoDBRereads(state_table)
    assert rereads.pending() is None
    rereads.request(_reread(T0, T0 + timedelta(days=2)))
    rereads.request(_reread(T0 + timedelta(hours=5), T0 + timedelta(days=3)))
    rereads.request(_reread(T0 - timedelta(hours=2), T0 + timedelta(days=1)))
    stored = rereads.pending()
    assert stored is not None
    assert stored.read_from == stored.staged_at == T0 - timedelta(hours=2)
    assert stored.imported_from == T0 + timedelta(days=1) - timedelta(hours=1)
    assert stored.imported_until == T0 + timedelta(days=3)
    # asking again for what is there already writes nothing
    assert rereads.request(_reread(T0, T0 + timedelta(days=3))) == stored
    assert rereads.pending() == stored
    # the high-water mark beside it is untouched
    assert StateStore(state_table).get_high_water_mark() is None


def test_a_run_clears_or_moves_on_only_the_request_it_read(state_table: str) -> None:
    rereads = DynamoDBRereads(state_table)
    rereads.request(_reread(T0, T0 + timedelta(days=2)))
    read = rereads.pending()
    assert read is not None
    assert rereads.advance(read, T0 + timedelta(hours=24))
    moved = rereads.pending()
    assert moved is not None
    assert moved.read_from == T0 + timedelta(hours=24)
    assert moved.staged_at == T0  # the import's values are still as old as its file
    assert not rereads.clear(read)  # read before it moved on
    # another late import asks while a run reads: that run's clear leaves it
    rereads.request(_reread(T0 + timedelta(hours=30), T0 + timedelta(days=4)))
    assert not rereads.clear(moved)
    assert not rereads.advance(moved, T0 + timedelta(hours=48))
    now = rereads.pending()
    assert now is not None
    assert now.read_from == T0 + timedelta(hours=24)
    assert now.imported_until == T0 + timedelta(days=4)
    assert rereads.clear(now)
    assert rereads.pending() is None
