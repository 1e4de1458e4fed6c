"""The fetch beyond lead writes: list membership, erasures and e-mail changes, with fakes."""

from __future__ import annotations

from datetime import timedelta

from leadsync.erasure.chats import ErasureMarkers
from leadsync.erasure.request import ErasureRequest, ErasureSource
from leadsync.sync.fetch.marketo_calls import Workload, lower_bound
from leadsync.sync.fetch.run import run
from leadsync.sync.fetch.summary import FetchSummary
from leadsync.sync.fetch.whole import WholeSync
from leadsync.sync.messages import SyncBatch
from tests.support.fakes import FakeMarketo, FakeQueue, FakeSource, FakeState
from tests.support.whole_sync import NOW, RULES, SETTINGS, Identities, Inbox, Memberships, chat


def _run(
    entries: list[object], marketo: FakeMarketo, whole: WholeSync
) -> tuple[FakeQueue, FetchSummary]:
    queue = FakeQueue()
    summary = run(
        source=FakeSource(entries),
        state=FakeState(mark=NOW - timedelta(hours=1)),
        queue=queue,
        destination=marketo,
        settings=SETTINGS,
        now=lambda: NOW,
        whole=whole,
    )
    return queue, summary


def _lists(queue: FakeQueue) -> list[tuple[int, str, list[int], list[str]]]:
    return [
        (
            b.list_operation.list_id,
            b.list_operation.action,
            b.list_operation.lead_ids,
            b.list_operation.pending_emails,
        )
        for b in queue.batches
        if b.list_operation is not None
    ]


def test_only_membership_changes_cost_a_list_call_and_new_leads_wait_for_their_create() -> None:
    marketo = FakeMarketo()
    left = marketo.add(email="left@example.com")  # was in 1001, no longer tagged pricing
    joins = marketo.add(email="joins@example.com")  # tagged now, not yet in 1001
    stays = marketo.add(email="stays@example.com")  # in 1001 and tagged: nothing to do
    memberships = Memberships({left: frozenset({1001}), stays: frozenset({1001})})
    entries = [
        chat("C1", "left@example.com"),
        chat("C2", "joins@example.com", tags=["pricing"]),
        chat("C3", "stays@example.com", tags=["pricing"]),
        chat("C4", "new@example.com", tags=["pricing"], country="Germany"),
    ]
    queue, _ = _run(entries, marketo, WholeSync(lists=RULES, memberships=memberships))

    assert _lists(queue) == [
        (1001, "remove", [left], []),
        (1001, "add", [joins], ["new@example.com"]),  # one call: a known lead and a new one
        (1002, "add", [], ["new@example.com"]),
    ]
    [create] = [r for b in queue.batches for r in b.records if r.action == "create"]
    assert (create.email, create.announce) == ("new@example.com", True)
    assert memberships.asked == [(sorted([left, joins, stays]), [1001, 1002])]
    bound = lower_bound(Workload(list_adds={1001: 2, 1002: 1}, list_removes={1001: 1}))
    assert len(_lists(queue)) == bound.lists == 3


def test_erased_visitors_are_deleted_never_written_and_a_lead_never_found_costs_nothing() -> None:
    marketo = FakeMarketo()
    first = marketo.add(email="gone@example.com")
    second = marketo.add(email="gone@example.com")  # a duplicate: both go
    inbox = Inbox(
        [
            ErasureRequest(email="gone@example.com", source=ErasureSource.QUEUE, requested_at=NOW),
            ErasureRequest(email="never@example.com", source=ErasureSource.FILE, requested_at=NOW),
        ]
    )
    entries = [chat("C1", "gone@example.com"), chat("C2", "kept@example.com")]
    queue, summary = _run(entries, marketo, WholeSync(erasures=inbox))

    deletes = [b.delete for b in queue.batches if b.delete is not None]
    assert [d.lead_ids for d in deletes] == [[first, second]]
    assert all("@" not in ref for d in deletes for ref in d.references)
    written = [r.email for b in queue.batches for r in b.records]
    assert written == ["kept@example.com"]
    assert (summary.erasures, summary.erasures_not_found) == (2, 1)
    assert inbox.log == ["take", "confirm"]


def test_a_chat_marked_for_erasure_deletes_its_customer() -> None:
    marketo = FakeMarketo()
    lead = marketo.add(email="forget@example.com")
    entries = [chat("C1", "forget@example.com", tags=["erase-me"])]
    queue, _ = _run(
        entries, marketo, WholeSync(erasure_markers=ErasureMarkers.of(tags=["erase-me"]))
    )
    assert [b.delete.lead_ids for b in queue.batches if b.delete] == [[lead]]
    assert not [r for b in queue.batches for r in b.records]


def test_a_changed_email_moves_the_lead_instead_of_creating_a_second() -> None:
    marketo = FakeMarketo()
    old = marketo.add(email="old@example.com", firstName="Jane")
    identities = Identities({"cust-9": "old@example.com"})
    entries = [chat("C1", "new@example.com", cid="cust-9")]
    queue, summary = _run(entries, marketo, WholeSync(identities=identities))

    records = [r for b in queue.batches for r in b.records]
    assert [(r.action, r.lead_id, r.email) for r in records] == [("update", old, "new@example.com")]
    assert records[0].fields["email"] == "new@example.com"
    assert summary.email_changes == 1
    # remembered only once Marketo holds the lead under the new address (the next run)
    assert identities.remembered == {"cust-9": "old@example.com"}


def test_the_lead_writes_are_queued_before_the_list_and_delete_operations() -> None:
    marketo = FakeMarketo()
    gone = marketo.add(email="gone@example.com")
    inbox = Inbox(
        [ErasureRequest(email="gone@example.com", source=ErasureSource.QUEUE, requested_at=NOW)]
    )
    entries = [chat("C1", "new@example.com", tags=["pricing"])]
    queue, _ = _run(entries, marketo, WholeSync(lists=RULES, erasures=inbox))
    kinds = [
        "records" if b.records else "list" if b.list_operation else "delete" for b in queue.batches
    ]
    assert kinds == ["records", "list", "delete"]
    assert isinstance(queue.batches[0], SyncBatch)
    assert gone in queue.batches[-1].delete.lead_ids  # type: ignore[union-attr]


def test_a_new_visitor_who_changes_address_next_run_keeps_one_lead() -> None:
    marketo = FakeMarketo()
    identities = Identities()
    first, _ = _run(
        [chat("C1", "first@example.com", cid="cust-7")], marketo, WholeSync(identities=identities)
    )
    assert [r.action for b in first.batches for r in b.records] == ["create"]
    assert identities.remembered == {"cust-7": "first@example.com"}
    created = marketo.add(email="first@example.com")  # the upload created it

    later, summary = _run(
        [chat("C2", "second@example.com", cid="cust-7")], marketo, WholeSync(identities=identities)
    )
    records = [r for b in later.batches for r in b.records]
    assert [(r.action, r.lead_id) for r in records] == [("update", created)]
    assert records[0].fields["email"] == "second@example.com"
    assert summary.email_changes == 1
    # remembered once Marketo holds the lead under the new address
    assert identities.remembered == {"cust-7": "first@example.com"}
