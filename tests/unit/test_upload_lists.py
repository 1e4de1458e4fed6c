"""List operations and deletes in the upload: creates announce their lead ids, a list add
waits for the run's creates, one call per operation, and the operation always moves whole."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from leadsync.errors import ConfigurationError
from leadsync.limiter.api import BudgetExhausted, DailyQuotaExhausted
from leadsync.marketo.errors import MarketoPermanent, MarketoRetryable
from leadsync.models import Visitor
from leadsync.sync.messages import SyncBatch, SyncRecord
from leadsync.sync.upload.operations import MAX_LIST_WAITS
from leadsync.sync.upload.state import UploadSettings
from tests.support.records import record_for
from tests.support.upload_fakes import (
    FakeDeadLetterWriter,
    SwitchableBreaker,
)
from tests.support.upload_world import GuardedWorld

NOW = datetime(2026, 1, 15, 13, tzinfo=UTC)
CHAT = datetime(2026, 1, 15, 12, 40, tzinfo=UTC)
LIST = 1001


class FakeDeadLetters(FakeDeadLetterWriter):
    def send(self, body: str, attributes: Mapping[str, str]) -> str:
        raise AssertionError("no raw body here")


class World(GuardedWorld):
    def __init__(self, *, directory: bool = True) -> None:
        super().__init__(
            breaker=SwitchableBreaker(retry_after=12.5),
            dead=FakeDeadLetters(),
            settings=UploadSettings(max_attempts=3, claim_retry_seconds=20),
            directory=directory,
        )

    def take_deferred(self) -> tuple[SyncBatch, int]:
        [(batch, delay)] = self.queue.deferred
        self.queue.deferred.clear()
        return batch, delay


def _visitor(n: int) -> Visitor:
    return Visitor.model_validate(
        {
            "email": f"v{n}@example.com",
            "first_name": f"First{n}",
            "country": "Germany",
            "last_chat_at": CHAT,
            "chat_ids": [f"C{n}"],
        }
    )


def _create(n: int, *, announce: bool = True) -> SyncRecord:
    return record_for(_visitor(n)).model_copy(update={"announce": announce})


def _records(*records: SyncRecord) -> SyncBatch:
    return SyncBatch.model_validate(
        {"correlation_id": "corr-c", "created_at": NOW, "records": list(records)}
    )


def _list_op(
    action: str = "add", ids: list[int] | None = None, pending: list[str] | None = None, **kw: Any
) -> SyncBatch:
    return SyncBatch.model_validate(
        {
            "correlation_id": "corr-l",
            "created_at": NOW,
            "list_operation": {
                "list_id": LIST,
                "action": action,
                "lead_ids": ids or [],
                "pending_emails": pending or [],
            },
            **kw,
        }
    )


def _delete(ids: list[int], **kw: Any) -> SyncBatch:
    return SyncBatch.model_validate(
        {
            "correlation_id": "corr-d",
            "created_at": NOW,
            "delete": {"lead_ids": ids, "references": [f"ref-{i}" for i in ids]},
            **kw,
        }
    )


# -- announcements --------------------------------------------------------------------------


def test_a_create_that_announces_makes_its_lead_id_known() -> None:
    world = World()
    result = world.upload(_records(_create(1), _create(2, announce=False)))
    assert result.created == 2
    [lead_id] = world.marketo.by_email("v1@example.com")
    assert world.leads.ids == {"v1@example.com": lead_id}


def test_a_create_meeting_an_existing_lead_announces_that_lead() -> None:
    world = World()
    existing = world.marketo.add(email="v1@example.com", country="Germany")
    result = world.upload(_records(_create(1)))
    assert result.created == 0
    assert world.leads.ids == {"v1@example.com": existing}


def test_a_redelivered_create_announces_the_lead_an_earlier_delivery_made() -> None:
    world = World()
    made = world.marketo.add(email="v1@example.com", first_name="First1", country="Germany")
    world.upload(_records(_create(1)), redelivered=True)
    assert world.leads.ids == {"v1@example.com": made}
    assert "create_only" not in world.marketo.calls


def test_a_create_refused_for_good_is_announced_as_failed() -> None:
    world = World()
    world.marketo.refuse["v1@example.com"] = "1003"
    result = world.upload(_records(_create(1)))
    assert result.failed == 1
    assert world.leads.ids == {"v1@example.com": None}


def test_a_dead_lettered_create_is_announced_as_failed() -> None:
    world = World()
    world.marketo.fail_on_call[1] = MarketoPermanent("609", "Invalid JSON")
    result = world.upload(_records(_create(1)))
    assert result.dead_lettered == 1
    assert world.leads.ids == {"v1@example.com": None}


# -- list operations ------------------------------------------------------------------------


def test_a_list_add_waits_for_a_pending_create_then_adds_everyone_in_one_call() -> None:
    world = World()
    known = world.marketo.add(email="old@example.com")
    operation = _list_op("add", ids=[known], pending=["v1@example.com"])

    waiting = world.upload(operation, holder="l-1")
    assert (waiting.deferred, waiting.wait_reason, waiting.deferred_seconds) == (
        2,
        "create_in_progress",
        20,
    )
    assert world.marketo.calls == []  # no Marketo call while a lead is still being created
    again, delay = world.take_deferred()
    assert (delay, again.deferrals) == (20, 1)

    world.upload(_records(_create(1)), holder="c-1")  # the run's create, meanwhile
    [created] = world.marketo.by_email("v1@example.com")

    done = world.upload(again, holder="l-2")
    assert (done.list_added, done.deferred, done.failed) == (2, 0, 0)
    assert world.marketo.id_calls == [("list_add", LIST, [known, created])]
    assert world.marketo.lists[LIST] == {known, created}
    assert world.leads.members[LIST] == {known, created}
    assert world.stats.totals["list_added"] == 2


def test_a_deferred_list_add_carries_the_ids_already_known() -> None:
    world = World()
    world.leads.ids["v1@example.com"] = 7
    world.upload(_list_op("add", pending=["v1@example.com", "v2@example.com"]))
    again, _ = world.take_deferred()
    assert again.list_operation is not None
    assert again.list_operation.lead_ids == [7]
    assert again.list_operation.pending_emails == ["v2@example.com"]


def test_a_lead_whose_create_failed_is_dropped_from_the_list_add() -> None:
    world = World()
    a = world.marketo.add(email="a@example.com")
    world.leads.ids["v1@example.com"] = None
    result = world.upload(_list_op("add", ids=[a], pending=["v1@example.com"]))
    assert (result.list_added, result.deferred, result.failed) == (1, 0, 0)
    assert world.marketo.id_calls == [("list_add", LIST, [a])]
    assert world.state.errors == []  # its create's failure is in the store already


def test_after_the_last_wait_the_known_leads_go_and_the_unknown_are_recorded() -> None:
    world = World()
    a = world.marketo.add(email="a@example.com")
    operation = _list_op("add", ids=[a], pending=["late@example.com"], deferrals=MAX_LIST_WAITS)
    result = world.upload(operation)
    assert (result.list_added, result.failed, result.deferred) == (1, 1, 0)
    assert world.marketo.id_calls == [("list_add", LIST, [a])]
    [entry] = world.state.errors
    assert entry.reason == "list_lead_unknown"
    assert entry.record == {"list_id": LIST, "action": "add", "email": "late@example.com"}
    assert entry.correlation_id == "corr-l"


def test_a_list_operation_naming_pending_leads_needs_the_directory() -> None:
    world = World(directory=False)
    with pytest.raises(ConfigurationError):
        world.upload(_list_op("add", pending=["v1@example.com"]))
    assert world.marketo.calls == []


def test_removals_and_skips_for_not_found_or_not_in_list_count_as_done() -> None:
    world = World()
    member = world.marketo.add(email="m@example.com")
    outsider = world.marketo.add(email="o@example.com")
    world.marketo.lists[LIST] = {member}
    world.leads.members[LIST] = {member, outsider, 999}
    result = world.upload(_list_op("remove", ids=[member, outsider, 999]))
    assert (result.list_removed, result.failed, result.deferred, result.retried) == (1, 0, 0, 0)
    assert world.marketo.id_calls == [("list_remove", LIST, [member, outsider, 999])]
    assert world.marketo.lists[LIST] == set()
    assert world.leads.members[LIST] == set()  # in the list no longer, whatever the answer
    assert world.state.errors == []
    assert world.stats.totals["list_removed"] == 1


def test_an_add_of_a_lead_not_found_is_done_and_another_refusal_is_recorded() -> None:
    world = World()
    ok = world.marketo.add(email="ok@example.com")
    refused = world.marketo.add(email="no@example.com")
    world.marketo.refuse_ids[refused] = "1003"
    result = world.upload(_list_op("add", ids=[ok, 4242, refused]))
    assert (result.list_added, result.failed) == (1, 1)
    [entry] = world.state.errors
    assert (entry.reason, entry.code) == ("marketo_1003", "1003")
    assert entry.record == {"list_id": LIST, "action": "add", "lead_id": refused}
    assert entry.request == f"add 3 leads to list {LIST}"
    assert world.leads.members[LIST] == {ok}


def test_a_list_add_waiting_for_the_budget_goes_back_whole() -> None:
    world = World()
    a, b = world.marketo.add(email="a@example.com"), world.marketo.add(email="b@example.com")
    world.leads.ids["v1@example.com"] = b
    world.marketo.fail_on_call[1] = BudgetExhausted("no permit", retry_after_seconds=3.2)
    result = world.upload(_list_op("add", ids=[a], pending=["v1@example.com"]))
    assert (result.deferred, result.wait_reason, result.deferred_seconds) == (2, "rate", 4)
    again, delay = world.take_deferred()
    assert delay == 4
    assert again.deferrals == 1
    assert again.list_operation is not None
    # resolved once: what goes back names every lead by id
    assert (again.list_operation.lead_ids, again.list_operation.pending_emails) == ([a, b], [])
    assert world.marketo.lists[LIST] == set()


def test_a_delete_waiting_for_the_daily_quota_keeps_its_not_before() -> None:
    world = World()
    lead = world.marketo.add(email="a@example.com")
    resumes = NOW + timedelta(hours=5)
    world.marketo.fail_on_call[1] = DailyQuotaExhausted(
        "spent", resumes_at=resumes, retry_after_seconds=18_000
    )
    result = world.upload(_delete([lead]))
    assert (result.deferred, result.wait_reason) == (1, "daily_quota")
    again, _ = world.take_deferred()
    assert again.not_before == resumes
    assert again.delete == _delete([lead]).delete
    # delivered before its time: back to the queue without a call
    world.marketo.calls.clear()
    world.upload(again)
    assert world.marketo.calls == []
    assert world.take_deferred()[0].delete == again.delete


def test_a_failing_list_call_goes_back_whole_with_its_history_then_to_the_dead_letters() -> None:
    world = World()
    a = world.marketo.add(email="a@example.com")
    world.marketo.fail_on_call[1] = MarketoRetryable("HTTP 503", "down")
    result = world.upload(_list_op("remove", ids=[a]))
    assert (result.retried, result.failure, result.wait_reason) == (1, "HTTP 503", "retry")
    again, delay = world.take_deferred()
    assert delay == 30
    assert again.attempts == 1
    assert again.list_operation == _list_op("remove", ids=[a]).list_operation
    [note] = again.failures
    assert (note.code, note.request) == ("HTTP 503", f"remove 1 leads from list {LIST}")

    world.marketo.fail_on_call[2] = MarketoRetryable("HTTP 503", "down")
    world.upload(again)
    third, _ = world.take_deferred()
    world.marketo.fail_on_call[3] = MarketoRetryable("HTTP 503", "down")
    last = world.upload(third)
    assert (last.dead_lettered, last.retried) == (1, 0)
    [letter] = world.dead.batches
    assert letter.list_operation == third.list_operation
    assert len(letter.failures) == 3


def test_a_refused_delete_call_is_dead_lettered_at_once() -> None:
    world = World()
    lead = world.marketo.add(email="a@example.com")
    world.marketo.fail_on_call[1] = MarketoPermanent("609", "Invalid JSON")
    result = world.upload(_delete([lead]))
    assert (result.dead_lettered, result.failure) == (1, "609")
    [letter] = world.dead.batches
    assert letter.delete == _delete([lead]).delete
    assert lead in world.marketo.leads


def test_an_open_breaker_keeps_the_operation_waiting_untouched() -> None:
    world = World()
    world.breaker.open = True
    result = world.upload(_list_op("add", ids=[5]))
    assert (result.deferred, result.wait_reason, result.retried) == (1, "circuit_open", 0)
    again, delay = world.take_deferred()
    assert (delay, again.attempts) == (13, 0)
    assert again.list_operation == _list_op("add", ids=[5]).list_operation


def test_a_redelivered_list_add_is_simply_sent_again() -> None:
    world = World()
    a = world.marketo.add(email="a@example.com")
    world.upload(_list_op("add", ids=[a]))
    again = world.upload(_list_op("add", ids=[a]), redelivered=True)
    assert again.list_added == 1  # Marketo answers "added" again: nothing to check first
    assert world.marketo.calls == ["list_add", "list_add"]
    assert world.marketo.lists[LIST] == {a}


# -- deletes --------------------------------------------------------------------------------


def test_a_delete_is_one_call_and_a_lead_already_gone_counts_as_done(
    caplog: pytest.LogCaptureFixture,
) -> None:
    world = World()
    a = world.marketo.add(email="a@example.com")
    b = world.marketo.add(email="b@example.com")
    world.marketo.refuse_ids[b] = "1003"
    result = world.upload(_delete([a, 4242, b]))
    assert (result.leads_deleted, result.failed, result.records) == (1, 1, 3)
    assert world.marketo.id_calls == [("delete", 0, [a, 4242, b])]
    assert a not in world.marketo.leads
    [entry] = world.state.errors
    assert entry.record == {"action": "delete", "lead_id": b, "reference": f"ref-{b}"}
    assert world.stats.totals["leads_deleted"] == 1
    [logged] = [r for r in caplog.records if r.msg == "leads deleted"]
    assert vars(logged)["references"] == [f"ref-{a}", "ref-4242", f"ref-{b}"]
    assert "@" not in str(vars(logged))  # the logs name requests, never their e-mail
