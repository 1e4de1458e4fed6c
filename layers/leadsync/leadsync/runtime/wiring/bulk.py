"""What one execution environment of the bulk function keeps between invocations: the
Marketo client, the ports an import step works through, its settings, and the call meter."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from leadsync.adapters.bulk import (
    DynamoDBImportSlots,
    DynamoDBJobStore,
    S3StagedFiles,
    SqsBulkSender,
)
from leadsync.adapters.ledger import DynamoDBWriteLedger
from leadsync.adapters.queue import SqsQueue
from leadsync.adapters.reread import DynamoDBRereads
from leadsync.adapters.state import StateStore
from leadsync.adapters.stats import DailyStats
from leadsync.bulk.delivery import take_step
from leadsync.bulk.schedule import BulkSettings
from leadsync.bulk.step import BulkPorts
from leadsync.runtime.config import BulkEnv, BulkStagingEnv
from leadsync.runtime.secrets import load_credentials
from leadsync.runtime.wiring.clients import marketo_client
from leadsync.runtime.wiring.deadline import InvocationDeadline
from leadsync.runtime.wiring.meter import CallMeter
from leadsync.sync.fetch.batching import BatchLimits

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord


def bulk_settings(env: BulkEnv, staging: BulkStagingEnv | None = None) -> BulkSettings:
    """The bulk path's settings from the bulk function's environment (and the staging
    side's file limit, when given)."""
    return BulkSettings(
        max_file_bytes=(staging or BulkStagingEnv()).bulk_max_file_bytes,
        running_slots=env.bulk_running_slots,
        queued_slots=env.bulk_queued_slots,
        poll_delays=tuple(env.bulk_poll_delays_seconds),
        stuck_after=timedelta(minutes=env.bulk_stuck_after_minutes),
        give_up_after=timedelta(hours=env.bulk_give_up_after_hours),
        max_submissions=env.bulk_max_submissions,
        warnings_are_failures=env.bulk_warnings_are_failures,
    )


class BulkFunction:
    def __init__(self, env: BulkEnv, deadline: InvocationDeadline) -> None:
        credentials = load_credentials(env.credentials_secret)
        client, _ = marketo_client(credentials, env, env.state_table, deadline)
        stats = DailyStats(env.state_table, zone=env.marketo_quota_timezone)
        self.ports = BulkPorts(
            jobs=DynamoDBJobStore(env.state_table),
            slots=DynamoDBImportSlots(env.state_table),
            files=S3StagedFiles(env.bulk_bucket),
            marketo=client,
            queue=SqsBulkSender(env.bulk_queue_url),
            rest=SqsQueue(env.sync_queue_url),
            errors=StateStore(env.state_table),
            stats=stats,
            written=DynamoDBWriteLedger(env.state_table),
            rereads=DynamoDBRereads(env.state_table),
        )
        self.settings = bulk_settings(env)
        self.limits = BatchLimits.for_queue(
            env.marketo_records_per_call, env.marketo_max_body_bytes
        )
        # `with meter.counting():` around an invocation's records
        self.meter = CallMeter(client, stats, env.marketo_quota_timezone)

    def step(self, record: SQSRecord) -> dict[str, Any]:
        """One BulkQueue record: its step taken, or dropped when it is not a step."""
        return take_step(
            record.body,
            message_id=record.message_id,
            ports=self.ports,
            settings=self.settings,
            limits=self.limits,
        ).model_dump()
