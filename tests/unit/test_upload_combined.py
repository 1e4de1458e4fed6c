"""Creates and updates of one fresh batch in one createOrUpdate call, and every way the
leads can have moved between the lookup and that call."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leadsync.sync.failures import ErrorKind
from leadsync.sync.messages import SyncBatch, SyncRecord
from leadsync.sync.upload.outcome import UploadResult
from leadsync.sync.upload.run import process
from leadsync.sync.upload.state import UploadSettings
from tests.support.records import record_for
from tests.support.upload_world import NOW, World, sync_batch, visitor


def _update(lead_id: int, n: int, *, by_email: bool = True) -> SyncRecord:
    return SyncRecord(
        action="update",
        email=f"v{n}@example.com",
        lead_id=lead_id,
        fields={"livechatChatCount": 3},
        chat_ids=[f"C{n}"],
        by_email=by_email,
    )


def _knowing_v2() -> tuple[World, int]:
    """An upload whose Marketo has a lead for v2@example.com, and that lead's id."""
    world = World()
    return world, world.marketo.add(email="v2@example.com")


def _create_v1_update_v2(lead_id: int) -> SyncBatch:
    """A fresh batch: v1 to create, v2 (lead `lead_id`) to update."""
    return sync_batch(record_for(visitor(1)), _update(lead_id, 2))


def _upload(world: World, batch: SyncBatch, window: timedelta) -> UploadResult:
    return process(
        batch.model_dump_json(),
        holder="m-1",
        ports=world.ports,
        settings=UploadSettings(combine_window=window),
        now=lambda: NOW,
    )


def test_a_fresh_batch_of_creates_and_updates_costs_one_call() -> None:
    world = World()
    known = world.marketo.add(email="v2@example.com", country="France", city="Paris")
    batch = _create_v1_update_v2(known)
    result = world.upload(batch)
    assert (result.created, result.updated, result.failed, result.raced) == (1, 1, 0, 0)
    assert world.marketo.calls == ["create_or_update"]
    # the update carried only its decided values: Marketo's others stay
    assert world.marketo.leads[known]["country"] == "France"
    assert world.marketo.leads[known]["livechatChatCount"] == 3
    assert len(world.marketo.by_email("v1@example.com")) == 1
    assert world.claims.holders == {}  # the create's claim is given back
    assert world.state.errors == []


@pytest.mark.parametrize(
    ("age", "window"),
    [(timedelta(minutes=6), timedelta(minutes=5)), (timedelta(0), timedelta(0))],
    ids=["older-than-the-window", "window-off"],
)
def test_a_stale_batch_or_a_zero_window_uses_the_two_calls_that_never_race(
    age: timedelta, window: timedelta
) -> None:
    world, known = _knowing_v2()
    batch = _create_v1_update_v2(known).model_copy(update={"created_at": NOW - age})
    result = _upload(world, batch, window)
    assert (result.created, result.updated) == (1, 1)
    assert world.marketo.calls == ["create_only", "update_only"]


def test_one_kind_alone_keeps_its_own_call() -> None:
    world = World()
    world.upload(sync_batch(record_for(visitor(1)), record_for(visitor(2))))
    known = world.marketo.by_email("v1@example.com")[0]
    world.upload(sync_batch(_update(known, 1)))
    assert world.marketo.calls == ["create_only", "update_only"]


def test_an_e_mail_change_goes_by_id_beside_the_combined_call() -> None:
    world, known = _knowing_v2()
    renamed = world.marketo.add(email="old@example.com")
    rename = SyncRecord(
        action="update", email="v3@example.com", lead_id=renamed, fields={"email": "v3@example.com"}
    )
    result = world.upload(sync_batch(record_for(visitor(1)), _update(known, 2), rename))
    assert (result.created, result.updated) == (1, 2)
    assert world.marketo.calls == ["create_or_update", "update_only"]
    assert world.marketo.leads[renamed]["email"] == "v3@example.com"
    assert world.marketo.by_email("old@example.com") == []


def test_a_write_by_e_mail_may_not_change_the_e_mail() -> None:
    with pytest.raises(ValueError, match="cannot change the e-mail"):
        SyncRecord(
            action="update",
            email="v1@example.com",
            lead_id=5,
            fields={"email": "other@example.com"},
            by_email=True,
        )
    same = SyncRecord(
        action="update",
        email="v1@example.com",
        lead_id=5,
        fields={"email": "V1@Example.com"},
        by_email=True,
    )
    assert same.by_email


def test_a_lead_that_appeared_before_the_call_is_updated_once_and_reported_raced() -> None:
    world, known = _knowing_v2()
    appeared = world.marketo.add(email="v1@example.com", country="France")
    result = world.upload(_create_v1_update_v2(known))
    assert (result.created, result.updated, result.raced) == (0, 2, 1)
    assert world.marketo.by_email("v1@example.com") == [appeared]  # no duplicate
    [entry] = world.state.errors
    assert entry.kind is ErrorKind.RACED
    assert entry.reason == "create_met_existing_lead"
    assert entry.chat_ids == ["C1"]
    assert entry.correlation_id == "corr-1"
    assert entry.record is not None
    assert entry.record["lead_id"] == appeared
    assert world.stats.totals["writes_raced"] == 1


def test_an_update_whose_lead_was_deleted_meanwhile_is_reported_raced() -> None:
    world, gone = _knowing_v2()
    del world.marketo.leads[gone]
    result = world.upload(_create_v1_update_v2(gone))
    assert (result.created, result.raced) == (2, 1)
    [entry] = world.state.errors
    assert (entry.kind, entry.reason) == (ErrorKind.RACED, "update_recreated_lead")


def test_an_e_mail_held_by_two_leads_since_the_lookup_is_written_by_id() -> None:
    world, known = _knowing_v2()
    world.marketo.add(email="v2@example.com")  # a second lead appeared meanwhile
    world.marketo.add(email="v1@example.com")
    world.marketo.add(email="v1@example.com")
    result = world.upload(_create_v1_update_v2(known))
    assert (result.updated, result.failed, result.raced) == (2, 0, 0)
    assert world.marketo.calls == ["create_or_update", "lookup", "update_only"]
    assert world.marketo.leads[known]["livechatChatCount"] == 3
    assert len(world.marketo.by_email("v1@example.com")) == 2  # nothing created


def test_a_create_another_message_holds_waits_and_the_update_is_written() -> None:
    world, known = _knowing_v2()
    world.claims.holders["v1@example.com"] = "other-message"
    result = world.upload(_create_v1_update_v2(known))
    assert (result.created, result.updated, result.deferred) == (0, 1, 1)
    [(later, _)] = world.queue.deferred
    assert [r.email for r in later.records] == ["v1@example.com"]
    assert world.marketo.by_email("v1@example.com") == []


def test_a_redelivered_old_batch_looks_again_and_then_writes_in_one_call() -> None:
    world, known = _knowing_v2()
    batch = _create_v1_update_v2(known).model_copy(
        update={"created_at": NOW - timedelta(hours=2), "attempts": 1}
    )
    result = world.upload(batch)
    assert (result.created, result.updated) == (1, 1)
    assert world.marketo.calls == ["lookup", "create_or_update"]


def test_records_marketo_refuses_in_the_combined_call_go_to_the_error_store() -> None:
    world, known = _knowing_v2()
    world.marketo.refuse["v1@example.com"] = "1003"
    result = world.upload(_create_v1_update_v2(known))
    assert (result.created, result.updated, result.failed) == (0, 1, 1)
    [entry] = world.state.errors
    assert entry.kind is ErrorKind.UNDELIVERABLE
    assert entry.code == "1003"
    assert entry.request == "createOrUpdate 2 records by email"
