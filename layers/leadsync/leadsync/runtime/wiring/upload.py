"""What one execution environment of the upload (either lane) keeps between invocations: the
Marketo client on its lane, the ports the upload writes through, its settings, the
idempotency record around each message, and the call meter."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from leadsync.activities.config import default_activity_map
from leadsync.adapters.activity_ledger import DynamoDBActivityLedger
from leadsync.adapters.activity_type import StoredActivityType
from leadsync.adapters.claims import CreateClaims
from leadsync.adapters.dead_letters import DeadLetters
from leadsync.adapters.leads import DynamoDBLeadDirectory
from leadsync.adapters.ledger import DynamoDBWriteLedger
from leadsync.adapters.queue import SqsQueue
from leadsync.adapters.state import StateStore
from leadsync.adapters.stats import DailyStats
from leadsync.limiter.usage import InstanceUsageSync
from leadsync.mapping.fieldmap import default_field_map
from leadsync.marketo.activities import ApprovedType
from leadsync.marketo.client import MarketoClient
from leadsync.runtime import metrics
from leadsync.runtime.config import UploadEnv
from leadsync.runtime.secrets import load_credentials
from leadsync.runtime.wiring.clients import guarded_writer, marketo_client, schema_gate
from leadsync.runtime.wiring.deadline import InvocationDeadline
from leadsync.runtime.wiring.meter import CallMeter
from leadsync.sync.upload.delivery import deliver
from leadsync.sync.upload.outcome import UploadResult
from leadsync.sync.upload.ports import ActivityPorts, UploadPorts
from leadsync.sync.upload.state import UploadSettings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

# how long a message's result is kept: a delivery of the same message within this returns
# the kept result and writes nothing
IDEMPOTENCY_SECONDS = 6 * 3600


def activity_ports(client: MarketoClient, env: UploadEnv) -> ActivityPorts | None:
    """Marketo's activity calls, the activity ledger and the approved type's id; None when
    chat activities are off."""
    if not env.chat_activities:
        return None
    api = client.activities
    api_name = default_activity_map().type.api_name
    return ActivityPorts(
        api=api,
        ledger=DynamoDBActivityLedger(env.state_table),
        type_id=ApprovedType(api, api_name, kept=StoredActivityType(env.state_table)),
    )


def upload_settings(env: UploadEnv) -> UploadSettings:
    return UploadSettings(
        field_map=default_field_map(),
        max_attempts=env.upload_max_attempts,
        combine_window=timedelta(seconds=env.combined_write_window_seconds),
    )


class UploadFunction:
    """`process` is the function that handles one record (its module and name are part of
    the idempotency key); `handle(record=...)` runs it at most once per SQS message id."""

    def __init__(
        self,
        env: UploadEnv,
        deadline: InvocationDeadline,
        process: Callable[[SQSRecord], dict[str, Any]],
    ) -> None:
        # imported here: the idempotency utility loads boto3, which a cold start defers
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )

        credentials = load_credentials(env.credentials_secret)
        self.client, self.limiter = marketo_client(credentials, env, env.state_table, deadline)
        stats = DailyStats(env.state_table, zone=env.marketo_quota_timezone)
        errors = StateStore(env.state_table, on_errors=metrics.emit_errors)
        self.ports = UploadPorts(
            marketo=guarded_writer(self.client, env, deadline),
            claims=CreateClaims(env.state_table),
            errors=errors,
            deferrer=SqsQueue(env.sync_queue_url),
            stats=stats,
            dead_letters=DeadLetters(env.dead_letter_queue_url),
            leads=DynamoDBLeadDirectory(env.state_table),
            ledger=DynamoDBWriteLedger(env.state_table),
            schema=schema_gate(self.client, env.state_table, errors),
            activities=activity_ports(self.client, env),
        )
        self.settings = upload_settings(env)
        # what every integration on the instance used today, read at most every few minutes
        # across all copies, so the daily budget leaves the others their share
        self.usage = InstanceUsageSync(self.limiter, lambda: self.client.usage_today().total)
        self.meter = CallMeter(self.client, stats, env.marketo_quota_timezone, limiter=self.limiter)
        self.idempotency = IdempotencyConfig(
            event_key_jmespath="messageId",
            raise_on_no_idempotency_key=True,
            expires_after_seconds=IDEMPOTENCY_SECONDS,
        )
        persistence = DynamoDBPersistenceLayer(
            table_name=env.state_table,
            key_attr="pk",
            sort_key_attr="sk",
            expiry_attr="expires_at",
        )
        self.handle: Callable[..., dict[str, Any]] = idempotent_function(
            data_keyword_argument="record",
            persistence_store=persistence,
            config=self.idempotency,
        )(process)

    def deliver(self, record: SQSRecord) -> dict[str, Any]:
        """One SQS record: written, or dead-lettered when it is not a batch."""
        outcome = deliver(
            record.body,
            message_id=record.message_id,
            receives=int(record.attributes.approximate_receive_count or "1"),
            ports=self.ports,
            settings=self.settings,
        )
        if isinstance(outcome, UploadResult):
            metrics.emit_upload(outcome)
        return outcome.model_dump()

    @contextmanager
    def invocation(self, context: LambdaContext) -> Iterator[None]:
        """Around one invocation's records: the instance's usage read when it is this copy's
        turn, and the Marketo calls counted."""
        self.idempotency.register_lambda_context(context)
        with self.meter.counting():
            if self.limiter.name == "marketo":  # the normal lane keeps the instance's usage
                self.usage.maybe_sync()
            yield
