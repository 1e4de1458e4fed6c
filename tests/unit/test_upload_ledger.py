"""Two paths (a webhook and the hourly run) never write the same change to a lead twice."""

from __future__ import annotations

from datetime import timedelta

from leadsync.sync.messages import SyncRecord
from leadsync.sync.upload.ports import UploadPorts
from leadsync.sync.upload.run import process
from tests.support.records import record_for
from tests.support.upload_fakes import FakeLedger
from tests.support.upload_world import NOW, World, sync_batch, visitor


def _world_with_ledger() -> tuple[World, FakeLedger]:
    world = World()
    ledger = FakeLedger(now=NOW)
    world.ports = UploadPorts(
        world.marketo, world.claims, world.state, world.queue, world.stats, ledger=ledger
    )
    return world, ledger


def _update_v1(lead: int, **fields: str | int | float | bool) -> SyncRecord:
    """An update of v1@example.com (lead `lead`) by e-mail, with these values."""
    return SyncRecord(
        action="update", email="v1@example.com", lead_id=lead, fields=fields, by_email=True
    )


def test_what_the_upload_writes_goes_into_the_ledger() -> None:
    world, ledger = _world_with_ledger()
    record = record_for(visitor(1))
    world.upload(sync_batch(record))
    at, values = ledger.entries["v1@example.com"]
    assert at == NOW
    assert values == record.fields


def test_a_change_another_path_wrote_since_the_decision_is_not_written_again() -> None:
    world, ledger = _world_with_ledger()
    record = record_for(visitor(1))
    # the webhook's write landed after the hourly run decided (its batch's created_at)
    ledger.entries["v1@example.com"] = (NOW + timedelta(seconds=5), dict(record.fields))
    world.marketo.add(**record.fields)
    result = world.upload(sync_batch(record))
    assert (result.created, result.updated, result.unchanged) == (0, 0, 1)
    assert result.written_elsewhere == 1
    assert world.marketo.calls == []  # no call at all


def test_only_the_values_not_written_yet_go_out() -> None:
    world, ledger = _world_with_ledger()
    lead = world.marketo.add(email="v1@example.com", firstName="Ann", city="Paris")
    update = _update_v1(lead, firstName="Ann", city="Berlin")
    ledger.entries["v1@example.com"] = (NOW + timedelta(seconds=5), {"firstName": "Ann"})
    result = world.upload(sync_batch(update))
    assert result.updated == 1
    assert world.marketo.leads[lead]["city"] == "Berlin"
    assert ledger.entries["v1@example.com"][1] == {"firstName": "Ann", "city": "Berlin"}


def test_a_write_older_than_the_decision_does_not_count() -> None:
    world, ledger = _world_with_ledger()
    record = record_for(visitor(1))
    ledger.entries["v1@example.com"] = (NOW - timedelta(minutes=5), dict(record.fields))
    result = world.upload(sync_batch(record))
    assert result.created == 1  # the lookup after that write found no lead: it was deleted


def test_a_webhook_visitor_is_looked_up_first_and_then_written_once() -> None:
    world, _ = _world_with_ledger()
    lead = world.marketo.add(email="v1@example.com", country="France")
    record = record_for(visitor(1))
    batch = sync_batch(record).model_copy(update={"lookup_first": True})
    result = process(batch.model_dump_json(), holder="w-1", ports=world.ports, now=lambda: NOW)
    assert (result.created, result.updated, result.protected_kept) == (0, 1, 0)
    assert world.marketo.calls == ["lookup", "update_only"]
    assert world.marketo.leads[lead]["country"] == "France"  # a protected value stays
    # the same webhook again: the lookup finds nothing left to write
    again = process(batch.model_dump_json(), holder="w-2", ports=world.ports, now=lambda: NOW)
    assert (again.updated, again.unchanged) == (0, 1)
    assert world.marketo.calls == ["lookup", "update_only", "lookup"]


def test_a_record_whose_lead_got_other_values_since_is_decided_again_and_keeps_the_newer() -> None:
    world, ledger = _world_with_ledger()
    lead = world.marketo.add(
        email="v1@example.com", firstName="Ann", livechatLastChat="2026-01-15T12:50:00Z"
    )
    # decided long ago (a message that waited for the budget) with an older chat; since
    # then the priority lane wrote the newer one
    stale = _update_v1(lead, firstName="Ann", livechatLastChat="2026-01-14T09:00:00Z")
    ledger.entries["v1@example.com"] = (
        NOW + timedelta(seconds=5),
        {"firstName": "Ann", "livechatLastChat": "2026-01-15T12:50:00Z"},
    )
    result = world.upload(sync_batch(stale))
    assert (result.updated, result.unchanged) == (0, 1)
    assert world.marketo.leads[lead]["livechatLastChat"] == "2026-01-15T12:50:00Z"
    assert world.marketo.calls == ["lookup"]  # looked up, not written
