"""The bulk path over real HTTP: jobs and slots in a state table built from template.yaml,
files in an S3 bucket and steps on an SQS queue (moto server), imports by the Marketo
simulator. Delays are 0 and the simulator's clock is moved: nothing sleeps."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from leadsync.adapters.bulk import (
    DynamoDBImportSlots,
    DynamoDBJobStore,
    S3StagedFiles,
    SqsBulkSender,
)
from leadsync.adapters.queue import SqsQueue
from leadsync.adapters.state import StateStore
from leadsync.bulk.engine import process
from leadsync.bulk.jobs import BulkMessage, JobStatus
from leadsync.bulk.schedule import BulkSettings
from leadsync.bulk.staging import Staged, stage
from leadsync.bulk.step import BulkPorts, StepResult
from leadsync.marketo import MarketoClient, MarketoEndpoints
from leadsync.sync.fetch.batching import BatchLimits
from leadsync.sync.messages import SyncRecord
from local.simulators.marketo import MarketoSimulator, SimulatorConfig
from tests.support.handlers import LIMITS as ENV_LIMITS
from tests.support.handlers import event, load_handler, put_secret, start_marketo
from tests.support.limiters import OpenLimiter

pytestmark = pytest.mark.integration

CLIENT_ID, SECRET = "leadsync-client", "leadsync-secret"
LIMITS = BatchLimits(max_records=300, max_body_bytes=200_000)


@dataclass(frozen=True)
class Resources:
    """The bulk path's queue and bucket, and the sync queue it gives records back to."""

    bulk_url: str
    sync_url: str
    bucket: str


def bulk_resources() -> Resources:
    """Fresh queues and bucket on moto."""
    suffix = uuid.uuid4().hex[:10]
    sqs = boto3.client("sqs")
    made = Resources(
        bulk_url=sqs.create_queue(QueueName=f"bulk-{suffix}")["QueueUrl"],
        sync_url=sqs.create_queue(QueueName=f"sync-{suffix}")["QueueUrl"],
        bucket=f"bulk-{suffix}",
    )
    boto3.client("s3").create_bucket(Bucket=made.bucket)
    return made


@dataclass
class World:
    sim: MarketoSimulator
    client: MarketoClient
    ports: BulkPorts
    state: StateStore
    queue_url: str
    bucket: str

    def stage(self, records: Sequence[SyncRecord], settings: BulkSettings, now: datetime) -> Staged:
        """Stage the records as the fetch would, through this world's ports."""
        ports = self.ports
        return stage(
            records,
            files=ports.files,
            jobs=ports.jobs,
            queue=ports.queue,
            settings=settings,
            now=now,
        )

    def deliver_all(self, settings: BulkSettings, advance_s: float = 60) -> list[StepResult]:
        """Receive and process every step until the queue is empty; the simulator's clock
        moves between rounds (imports progress in simulated time)."""
        sqs = boto3.client("sqs")
        results: list[StepResult] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            got = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10)
            messages = got.get("Messages", [])
            if not messages:
                return results
            self.sim.clock.advance(advance_s)
            for message in messages:
                step = BulkMessage.model_validate_json(message["Body"])
                results.append(process(step, self.ports, settings, limits=LIMITS))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        raise AssertionError("the bulk queue never emptied")


@pytest.fixture
def world(state_table: str, moto_server: str) -> Iterator[World]:
    sim = MarketoSimulator(
        SimulatorConfig(
            client_id=CLIENT_ID,
            client_secret=SECRET,
            host="127.0.0.1",
            port=0,
            write_delay_ms=0,
            bulk_rows_per_second=50,
            bulk_queued_slots=10,
        )
    ).start()
    endpoints = MarketoEndpoints(f"{sim.base_url}/rest", f"{sim.base_url}/identity")
    client = MarketoClient(endpoints, CLIENT_ID, SECRET, OpenLimiter())
    aws = bulk_resources()
    state = StateStore(state_table)
    ports = BulkPorts(
        jobs=DynamoDBJobStore(state_table),
        slots=DynamoDBImportSlots(state_table),
        files=S3StagedFiles(aws.bucket),
        marketo=client,
        queue=SqsBulkSender(aws.bulk_url),
        rest=SqsQueue(aws.sync_url),
        errors=state,
    )
    try:
        yield World(sim, client, ports, state, aws.bulk_url, aws.bucket)
    finally:
        client.close()
        sim.stop()
        sqs = boto3.client("sqs")
        sqs.delete_queue(QueueUrl=aws.bulk_url)
        sqs.delete_queue(QueueUrl=aws.sync_url)


def create(n: int, **fields: Any) -> SyncRecord:
    email = f"visitor{n}@example.com"
    return SyncRecord(
        action="create",
        email=email,
        fields={"email": email, "firstName": f"Visitor {n}", **fields},
        chat_ids=[f"CHAT{n}"],
    )


def test_a_job_imports_keeps_protected_values_and_stores_its_failed_rows(world: World) -> None:
    [known_id] = world.sim.seed_leads(
        [{"email": "known@example.com", "firstName": "Old", "city": "Kraków"}]
    )
    update = SyncRecord(
        action="update",
        email="known@example.com",
        lead_id=known_id,
        fields={"firstName": "New"},  # city is protected: the fetch did not write it
        by_email=True,
        chat_ids=["CHATK"],
    )
    broken = create(2, livechatLastChat="not a time")
    odd = create(3, notAField="ignored")
    records = [create(1, city="Lyon"), update, broken, odd]
    settings = BulkSettings(poll_delays=(0,), warnings_are_failures=False)
    now = datetime.now(UTC)
    staged = world.stage(records, settings, now)
    [job_id] = staged.jobs
    results = world.deliver_all(settings)
    assert next(r.outcome for r in results) == "submitted"
    assert results[-1].outcome == "done"
    assert (results[-1].rows_failed, results[-1].rows_warned) == (1, 1)

    leads = {lead["email"]: lead for lead in world.sim.leads()}
    assert leads["known@example.com"]["firstName"] == "New"
    assert leads["known@example.com"]["city"] == "Kraków"  # the blank cell kept it
    assert leads["visitor1@example.com"]["city"] == "Lyon"
    assert "visitor2@example.com" not in leads
    assert "visitor3@example.com" in leads  # a warning: imported, the field ignored

    errors = world.state.errors_between(None, datetime.now(UTC) + timedelta(seconds=1))
    [failed] = errors
    assert (failed.reason, failed.chat_ids) == ("bulk_row_failed", ["CHAT2"])
    assert "livechatLastChat" in failed.detail
    assert failed.record is not None
    assert failed.record["email"] == "visitor2@example.com"

    job = world.ports.jobs.get(job_id)
    assert job is not None
    assert job.status is JobStatus.DONE
    assert (job.rows_failed, job.rows_warned, job.submissions) == (1, 1, 1)
    assert world.ports.slots.held() == []
    listing = boto3.client("s3").list_objects_v2(Bucket=world.bucket)
    assert listing.get("KeyCount", 0) == 0  # the staged file is gone
    actions = [r["action"] for r in world.sim.audit()["requests"] if r["action"] != "identity"]
    assert actions.count("bulk:submit") == 1
    assert "bulk:failures" in actions
    assert "bulk:warnings" in actions


def test_queue_full_at_marketo_waits_and_every_file_gets_in(world: World) -> None:
    world.sim.set_config({"bulk_queued_slots": 1, "bulk_running_slots": 1})
    settings = BulkSettings(poll_delays=(0,), busy_delay_seconds=0, max_file_bytes=200)
    records = [create(n) for n in range(12)]
    staged = world.stage(records, settings, datetime.now(UTC))
    assert len(staged.jobs) >= 3
    results = world.deliver_all(settings)
    assert "marketo_busy" in {r.outcome for r in results}
    assert sum(r.outcome == "done" for r in results) == len(staged.jobs)
    emails = {lead["email"] for lead in world.sim.leads()}
    assert emails == {r.email for r in records}
    assert world.state.errors_between(None, datetime.now(UTC) + timedelta(seconds=1)) == []


def test_the_bulk_handler_runs_a_step_and_drops_a_body_that_is_not_one(
    monkeypatch: pytest.MonkeyPatch, state_table: str, lambda_context: Any
) -> None:
    marketo = start_marketo(bulk_start_delay_seconds=0)
    try:
        aws, sqs = bulk_resources(), boto3.client("sqs")
        bulk_url, sync_url, bucket = aws.bulk_url, aws.sync_url, aws.bucket
        for key, value in {
            **ENV_LIMITS,
            "STATE_TABLE": state_table,
            "CREDENTIALS_SECRET": put_secret(marketo),
            "BULK_QUEUE_URL": bulk_url,
            "BULK_BUCKET": bucket,
            "SYNC_QUEUE_URL": sync_url,
        }.items():
            monkeypatch.setenv(key, value)
        module = load_handler("bulk")
        module.environment.cache_clear()
        module.wired.cache_clear()
        staged = stage(
            [create(1)],
            files=S3StagedFiles(bucket),
            jobs=DynamoDBJobStore(state_table),
            queue=SqsBulkSender(bulk_url),
            settings=BulkSettings(),
            now=datetime.now(UTC),
        )
        [message] = sqs.receive_message(QueueUrl=bulk_url)["Messages"]
        sample = event("bulk_sqs.json")
        records: Any = sample["Records"]
        submit = {**records[0], "body": message["Body"]}
        broken = {**records[0], "messageId": "broken-1", "body": "{not a step"}
        answer = module.handler({"Records": [submit, broken]}, lambda_context)
        assert answer == {"batchItemFailures": []}
        job = DynamoDBJobStore(state_table).get(staged.jobs[0])
        assert job is not None
        assert job.status is JobStatus.QUEUED
        errors = StateStore(state_table).errors_between(None, datetime.now(UTC))
        assert [(e.reason, e.code) for e in errors] == [("invalid_message", "invalid_message")]
        # the poll waits its delay (5 s): not visible yet
        assert sqs.receive_message(QueueUrl=bulk_url).get("Messages", []) == []
    finally:
        marketo.stop()
