"""The bulk path inside the fetch and `leadsync plan`: a large run is staged as import
files (and its REST messages hold only what an import cannot carry); a plan shows the
choice and its cost and stages nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leadsync.bulk.choice import BulkRoute
from leadsync.bulk.schedule import BulkSettings
from leadsync.ops.plan import describe, make_plan
from leadsync.sync.fetch.run import run
from leadsync.sync.fetch.whole import WholeSync
from tests.support.bulk_staging import Files, Jobs, Sender
from tests.support.fakes import FakeMarketo, FakeQueue, FakeSource, FakeState
from tests.support.whole_sync import NOW, SETTINGS, chat

VISITORS = 3_000


def entries() -> list[object]:
    return [chat(f"C{n}", f"visitor{n}@example.com") for n in range(VISITORS)]


def route(**kw: object) -> tuple[BulkRoute, Files, Jobs, Sender]:
    files, jobs, queue = Files(), Jobs(), Sender()
    made = BulkRoute(
        files=files,
        jobs=jobs,
        queue=queue,
        settings=BulkSettings(),
        threshold=1_000,
        **kw,  # type: ignore[arg-type]
    )
    return made, files, jobs, queue


def test_a_large_run_is_staged_for_import_and_the_mark_moves() -> None:
    bulk, files, _, queue = route()
    state, sync = FakeState(mark=NOW - timedelta(hours=1)), FakeQueue()
    summary = run(
        source=FakeSource(entries()),
        state=state,
        queue=sync,
        destination=FakeMarketo(),
        settings=SETTINGS,
        now=lambda: NOW,
        whole=WholeSync(bulk=bulk),
    )
    assert (summary.path, summary.bulk_records, summary.bulk_jobs) == ("bulk", VISITORS, 1)
    assert summary.bulk_write_calls < summary.rest_write_calls
    assert sync.batches == []  # every write went into the file
    assert len(files.items) == 1
    assert [m.step for m, _ in queue.sent] == ["submit"]
    assert state.mark == NOW


def test_small_runs_stay_on_rest() -> None:
    bulk, files, _, _ = route()
    # under the threshold, and an import would cost more calls than REST here anyway
    sync = FakeQueue()
    summary = run(
        source=FakeSource(entries()[:100]),
        state=FakeState(mark=NOW - timedelta(hours=1)),
        queue=sync,
        destination=FakeMarketo(),
        settings=SETTINGS,
        now=lambda: NOW,
        whole=WholeSync(bulk=bulk),
    )
    assert summary.path == "rest"
    assert summary.path_reason == "REST costs no more"
    assert sum(len(b.records) for b in sync.batches) == 100
    assert files.items == {}


def test_a_plan_shows_the_choice_and_its_cost_and_stages_nothing() -> None:
    bulk, files, jobs, queue = route()
    plan = make_plan(
        source=FakeSource(entries()),
        state=FakeState(mark=NOW - timedelta(hours=1)),
        destination=FakeMarketo(),
        settings=SETTINGS,
        whole=WholeSync(bulk=bulk),
        now=lambda: NOW,
    )
    text = "\n".join(describe(plan, quota_left=1_000))
    assert "path: bulk (3000 records, threshold 1000)" in text
    assert "by bulk import" in text
    assert "the run adds" in text
    assert (files.items, jobs.items, queue.sent) == ({}, {}, [])


def test_the_fetch_prices_rest_at_the_stacks_records_per_call(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from leadsync.runtime.config import BulkStagingEnv
    from leadsync.runtime.wiring.fetch import bulk_route

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    staging = BulkStagingEnv(
        bulk_queue_url="https://sqs.us-east-1.amazonaws.com/1/q", bulk_bucket="b"
    )
    route = bulk_route(staging, "state", {}, per_call=50)
    assert route is not None
    assert route.per_call == 50
