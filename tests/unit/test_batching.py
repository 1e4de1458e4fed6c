from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadsync.models import Visitor
from leadsync.sync.fetch.batching import (
    SQS_HEADROOM_BYTES,
    SQS_MAX_MESSAGE_BYTES,
    BatchLimits,
    body_bytes,
    plan_batches,
    write_kind,
)
from leadsync.sync.messages import SyncRecord
from tests.support.records import record_for

CREATED = datetime(2026, 1, 15, 13, tzinfo=UTC)


def _record(index: int, name: str = "", chats: int = 1) -> SyncRecord:
    visitor = Visitor(
        email=f"v{index}@example.com",
        first_name=name or None,
        chat_ids=[f"C{index}-{n}" for n in range(chats)],
    )
    return record_for(visitor)


_records = st.lists(
    st.tuples(
        st.text(alphabet=st.characters(codec="utf-8"), max_size=255),
        st.integers(min_value=1, max_value=40),
    ),
    max_size=60,
).map(lambda items: [_record(i, name, chats) for i, (name, chats) in enumerate(items)])


@settings(max_examples=60, deadline=None)
@given(
    records=_records,
    max_records=st.integers(min_value=1, max_value=12),
    max_body=st.integers(min_value=300, max_value=6_000),
)
def test_no_batch_over_its_limits_and_no_record_lost_or_doubled(
    records: list[SyncRecord], max_records: int, max_body: int
) -> None:
    counter = itertools.count()
    plan = plan_batches(
        records,
        BatchLimits(max_records, max_body),
        created_at=CREATED,
        new_id=lambda: f"id-{next(counter)}",
    )
    for batch in plan.batches:
        assert 1 <= len(batch.records) <= max_records
        assert body_bytes(batch) <= max_body
    sent = [record for batch in plan.batches for record in batch.records]
    assert sorted(r.email for r in sent + plan.oversized) == sorted(r.email for r in records)
    assert sent == [r for r in records if r not in plan.oversized]
    assert len({batch.correlation_id for batch in plan.batches}) == len(plan.batches)
    assert plan.records == len(sent)


def test_packs_up_to_the_record_limit() -> None:
    records = [_record(i) for i in range(7)]
    plan = plan_batches(records, BatchLimits(3, 1_000_000), created_at=CREATED)
    assert [len(b.records) for b in plan.batches] == [3, 3, 1]
    assert plan.oversized == []


def test_a_record_too_big_for_any_message_is_set_apart() -> None:
    big = _record(1, chats=400)
    plan = plan_batches([_record(0), big, _record(2)], BatchLimits(300, 2_000), created_at=CREATED)
    assert plan.oversized == [big]
    assert [r.email for b in plan.batches for r in b.records] == [
        "v0@example.com",
        "v2@example.com",
    ]


def test_queue_limits_leave_headroom_under_the_sqs_maximum() -> None:
    limits = BatchLimits.for_queue(300, 1_048_576)
    assert limits.max_body_bytes == SQS_MAX_MESSAGE_BYTES - SQS_HEADROOM_BYTES
    assert BatchLimits.for_queue(10, 2048).max_body_bytes == 2048


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        BatchLimits(0, 10)


def test_nothing_to_batch() -> None:
    assert plan_batches([], BatchLimits(3, 1000), created_at=CREATED).batches == []


def test_a_message_holds_one_kind_of_write_so_it_costs_one_call() -> None:
    from datetime import UTC, datetime

    from leadsync.sync.fetch.batching import BatchLimits, plan_batches
    from leadsync.sync.messages import SyncRecord

    def record(n: int, action: str) -> SyncRecord:
        return SyncRecord(
            action=action,  # type: ignore[arg-type]
            email=f"v{n}@example.com",
            lead_id=n if action == "update" else None,
            fields={"firstName": f"V{n}"},
        )

    records = [record(n, "create") for n in range(1, 251)] + [
        record(n, "update") for n in range(251, 501)
    ]
    plan = plan_batches(
        records, BatchLimits(300, 1_000_000), created_at=datetime(2026, 1, 15, tzinfo=UTC)
    )
    kinds = [{r.action for r in batch.records} for batch in plan.batches]
    assert kinds == [{"create"}, {"update"}]  # not 250 creates + 50 updates, then 200
    assert [len(b.records) for b in plan.batches] == [250, 250]


def _write(n: int, kind: str) -> SyncRecord:
    return SyncRecord(
        action="create" if kind == "create" else "update",
        email=f"v{n}@example.com",
        lead_id=None if kind == "create" else n,
        fields={"firstName": f"V{n}"},
        by_email=kind == "by_email",
    )


@settings(max_examples=80, deadline=None)
@given(
    kinds=st.lists(st.sampled_from(["create", "by_email", "by_id"]), max_size=80),
    max_records=st.integers(min_value=1, max_value=20),
)
def test_combined_messages_each_cost_one_call_and_carry_every_record_once(
    kinds: list[str], max_records: int
) -> None:
    records = [_write(n, kind) for n, kind in enumerate(kinds, start=1)]
    records.sort(key=lambda record: write_kind(record, True) == "update")
    plan = plan_batches(
        records, BatchLimits(max_records, 1_000_000), created_at=CREATED, combine=True
    )
    sent = [record for batch in plan.batches for record in batch.records]
    assert sent == records  # each record once, in order
    for batch in plan.batches:
        assert 1 <= len(batch.records) <= max_records
        assert len({write_kind(r, True) for r in batch.records}) == 1
    # as few messages as the kinds allow: one call each
    together = sum(kind != "by_id" for kind in kinds)
    by_id = len(kinds) - together
    assert len(plan.batches) == -(-together // max_records) + -(-by_id // max_records)


def test_creates_and_updates_by_e_mail_share_messages_updates_by_id_do_not() -> None:
    records = [_write(n, "create") for n in range(1, 201)]
    records += [_write(n, "by_email") for n in range(201, 401)]
    records += [_write(n, "by_id") for n in range(401, 411)]
    plan = plan_batches(records, BatchLimits(300, 1_000_000), created_at=CREATED, combine=True)
    assert [len(b.records) for b in plan.batches] == [300, 100, 10]
    assert {r.action for r in plan.batches[0].records} == {"create", "update"}
    assert all(not r.by_email for r in plan.batches[2].records)
