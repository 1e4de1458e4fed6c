"""`leadsync plan`: the run's decisions and their cost, and nothing written anywhere."""

from __future__ import annotations

from datetime import timedelta

from leadsync.erasure.request import ErasureRequest, ErasureSource
from leadsync.ops.plan import describe, make_plan
from leadsync.sync.fetch.whole import WholeSync
from tests.support.fakes import FakeMarketo, FakeSource, FakeState
from tests.support.whole_sync import NOW, RULES, SETTINGS, Identities, Inbox, Memberships, chat


def test_a_plan_shows_every_kind_of_work_and_its_cost_and_writes_nothing() -> None:
    marketo = FakeMarketo()
    known = marketo.add(email="known@example.com", firstName="Old")
    gone = marketo.add(email="gone@example.com")
    renamed = marketo.add(email="before@example.com")
    state = FakeState(mark=NOW - timedelta(hours=1))
    identities = Identities({"cust-r": "before@example.com"})
    inbox = Inbox(
        [ErasureRequest(email="gone@example.com", source=ErasureSource.QUEUE, requested_at=NOW)]
    )
    entries = [
        chat("C1", "known@example.com", tags=["pricing"]),
        chat("C2", "new@example.com", country="Germany"),
        chat("C3", "after@example.com", cid="cust-r"),
        {"id": "C4", "users": []},  # rejected: no customer
    ]
    plan = make_plan(
        source=FakeSource(entries),
        state=state,
        destination=marketo,
        settings=SETTINGS,
        whole=WholeSync(
            lists=RULES, memberships=Memberships(), identities=identities, erasures=inbox
        ),
        lookups_made=lambda: marketo.calls.count("lookup"),
        now=lambda: NOW,
    )
    lines = describe(plan, quota_left=1000)
    text = "\n".join(lines)

    cost = plan.cost
    # the create and the update by e-mail share one createOrUpdate; the e-mail change goes
    # by id in an updateOnly of its own
    assert (cost.lookup, cost.write, cost.create, cost.update) == (1, 1, 0, 1)
    assert (cost.list_add, cost.list_remove, cost.delete) == (2, 0, 1)
    assert "list 1001: add 1 lead(s)" in text
    assert "list 1002: add 1 lead(s)" in text
    assert "deletes: 1 lead(s) for 1 erasure request(s), 0 not found (no call)" in text
    assert "e-mail changes followed: 1" in text
    assert "createOrUpdate 1, createOnly 0, updateOnly 1" in text
    assert "daily budget left after the run: 995" in text
    assert lines[-1] == (
        "plan: creates=1 updates=2 list_adds=2 list_removes=0 deletes=1 rejected=1 calls=6"
    )
    assert "@" not in text  # never an e-mail
    # nothing written: no message, no error, the mark, identities and erasures untouched
    assert state.mark == NOW - timedelta(hours=1)
    assert (state.errors, state.log) == ([], [])
    assert identities.remembered == {"cust-r": "before@example.com"}
    assert inbox.log == ["take"]
    assert marketo.calls == ["lookup"]
    assert {known, gone, renamed} <= set(marketo.leads)
