"""The bulk path on the local world: a run over the threshold stages import files, the
BulkQueue's event source mapping drives the bulk function through submit, polls and
read-back, and the leads end as the REST path would have left them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from leadsync.ops.cli import main
from local.bulk_run import drain_bulk
from local.sync_run import SEEDED_GEOGRAPHY, read_dataset_from_start, seed_known_visitors
from local.world import LocalWorld, WorldOptions
from tests.support.handlers import forget_cached_clients

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalWorld]:
    options = WorldOptions(
        chats=3000,
        seed=31,
        state_dir=tmp_path_factory.mktemp("bulk-world"),
        parameters={"BulkThresholdRecords": "20", "BulkPollDelaysSeconds": "1,2"},
        marketo_args=["--bulk-rows-per-second", "20", "--bulk-start-delay-seconds", "0"],
    )
    with LocalWorld(options) as running:
        yield running


@pytest.fixture(scope="module")
def synced(world: LocalWorld) -> dict[str, Any]:
    seeded = {lead["email"]: lead for lead in seed_known_visitors(world)}
    read_dataset_from_start(world)
    fetched: dict[str, Any] = world.fire_schedule("FetchFunction").result
    # imports progress in simulated time: its clock moves while the queue drains
    bulk = drain_bulk(world, advance_s=30, deadline_s=120)
    upload = world.drain_queue("UploadFunction", deadline_s=120)
    return {"fetch": fetched, "bulk": bulk, "upload": upload, "seeded": seeded}


def test_a_large_run_takes_the_bulk_path(synced: dict[str, Any]) -> None:
    fetched = synced["fetch"]
    assert fetched["path"] == "bulk", fetched
    assert fetched["bulk_jobs"] >= 1
    assert fetched["bulk_records"] > 0
    assert fetched["bulk_write_calls"] < fetched["rest_write_calls"]
    assert synced["bulk"].errors == []


def test_every_visitor_has_its_lead_and_kept_values_stay(
    world: LocalWorld, synced: dict[str, Any]
) -> None:
    leads = {lead["email"]: lead for lead in world.marketo_leads()}
    visitors = {v["email"] for v in world.livechat_visitors()}
    assert visitors <= set(leads)
    assert len(leads) == len({*visitors, *synced["seeded"]})  # no lead twice
    for email, seeded in synced["seeded"].items():
        if "city" in seeded:
            assert {k: leads[email][k] for k in SEEDED_GEOGRAPHY} == SEEDED_GEOGRAPHY


def test_imports_were_few_calls_and_jobs_are_done(
    world: LocalWorld, synced: dict[str, Any]
) -> None:
    actions = [r["action"] for r in world.marketo_audit(limit=100_000)["requests"]]
    assert actions.count("bulk:submit") == synced["fetch"]["bulk_jobs"]
    assert "sync:createOnly" not in actions or actions.count("sync:createOnly") < 2
    assert world.queue_depth("BulkQueueUrl") == 0
    assert world.queue_depth("BulkDeadLetterQueueUrl") == 0


def test_backfill_refuses_a_date_out_of_reach_and_duplicates_nothing(
    world: LocalWorld,
    synced: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert world.stack is not None
    for name, value in world.aws_env.items():
        monkeypatch.setenv(name, value)
    forget_cached_clients()
    stack = ["--stack", world.stack.name]
    assert main(["backfill", *stack, "--since", "2020-01-01"]) == 2
    assert "out of reach" in capsys.readouterr().err

    leads_before = len(world.marketo_leads())
    since = (world.chats_start - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert main(["backfill", *stack, "--since", since, "--window-hours", "1"]) == 0
    out = capsys.readouterr().out
    # everything was synced already: found unchanged, nothing queued or staged again
    assert "creates=0 updates=0" in out.splitlines()[-1]
    assert "bulk_jobs=0" in out.splitlines()[-1]
    assert world.queue_depth("SyncQueueUrl") == 0
    assert world.queue_depth("BulkQueueUrl") == 0
    # the same command again: resumes from its own mark and reads only what came since
    assert main(["backfill", *stack, "--since", since, "--window-hours", "1"]) == 0
    again = capsys.readouterr().out
    assert "resuming from" in again
    assert "windows=1 chats=0" in again.splitlines()[-1]
    assert len(world.marketo_leads()) == leads_before
