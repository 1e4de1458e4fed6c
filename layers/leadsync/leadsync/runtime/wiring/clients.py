"""The clients every function and command shares: LiveChat's, Marketo's on its limiter lane,
the Marketo circuit breaker, the guarded writer every lead call goes through, and the schema
gate in front of every lead write."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from leadsync.adapters.breaker import DynamoDBBreaker
from leadsync.limiter.config import lane_config
from leadsync.limiter.dynamodb import DynamoDBLimiter
from leadsync.marketo.client import MarketoClient
from leadsync.marketo.config import MarketoClientConfig, MarketoEndpoints
from leadsync.marketo.guard import Guard, GuardedWriter
from leadsync.runtime.config import BreakerEnv, FetchEnv, MarketoLimits, UploadEnv
from leadsync.runtime.secrets import Credentials
from leadsync.runtime.wiring.deadline import InvocationDeadline
from leadsync.sources.livechat import (
    CONNECT_TIMEOUT_SECONDS,
    READ_TIMEOUT_SECONDS,
    LiveChatClient,
    page_guard,
)

if TYPE_CHECKING:
    from leadsync.ports import ErrorSink
    from leadsync.readiness.gate import SchemaGate
    from leadsync.sources.livechat_config import LiveChatConfiguration

DESTINATION = "marketo"


def livechat_client(
    credentials: Credentials,
    *,
    remaining_s: Callable[[], float] | None = None,
    timeout: tuple[float, float] = (CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS),
) -> LiveChatClient:
    """LiveChat's archives. With `remaining_s` a failed page is retried (`page_guard`) within
    that time; without, every failure goes straight to the caller."""
    return LiveChatClient(
        credentials.livechat_account_id,
        credentials.livechat_token.get_secret_value(),
        str(credentials.livechat_api_url),
        timeout=timeout,
        guard=page_guard(remaining_s) if remaining_s is not None else None,
    )


def livechat_configuration(credentials: Credentials) -> LiveChatConfiguration:
    """LiveChat's configuration API (webhooks), for `leadsync check`."""
    from leadsync.sources.livechat_config import LiveChatConfiguration

    return LiveChatConfiguration(
        credentials.livechat_account_id,
        credentials.livechat_token.get_secret_value(),
        str(credentials.livechat_api_url),
    )


def marketo_client(
    credentials: Credentials,
    limits: MarketoLimits,
    state_table: str,
    deadline: Callable[[], float],
    environ: Mapping[str, str] | None = None,
) -> tuple[MarketoClient, DynamoDBLimiter]:
    """The one Marketo client, every call through the shared limiter on the lane `environ`
    names (the priority lane, or the normal one)."""
    config, name = lane_config(environ or os.environ)
    limiter = DynamoDBLimiter(state_table, config, name=name)
    client = MarketoClient(
        MarketoEndpoints(str(credentials.marketo_rest_url), str(credentials.marketo_identity_url)),
        credentials.marketo_client_id,
        credentials.marketo_client_secret,
        limiter,
        config=MarketoClientConfig(
            records_per_call=limits.marketo_records_per_call,
            max_body_bytes=limits.marketo_max_body_bytes,
            quota_timezone=limits.marketo_quota_timezone,
            rate_window_s=float(limits.marketo_window_seconds),
        ),
        deadline=deadline,
    )
    return client, limiter


def marketo_breaker(state_table: str, settings: BreakerEnv | None = None) -> DynamoDBBreaker:
    """Marketo's circuit breaker, one for every function (in the state table); without
    `settings`, its defaults (enough to read its state)."""
    if settings is None:
        return DynamoDBBreaker(state_table, DESTINATION)
    return DynamoDBBreaker(
        state_table,
        DESTINATION,
        threshold=settings.breaker_failure_threshold,
        cooldown_s=settings.breaker_cooldown_seconds,
    )


def guarded_writer(
    client: MarketoClient, env: FetchEnv | UploadEnv, deadline: InvocationDeadline
) -> GuardedWriter:
    """Every lead call through the shared breaker and the retries, within the invocation's
    time; lookups one call's worth of e-mails at a time."""
    guard = Guard(marketo_breaker(env.state_table, env), remaining_s=deadline.remaining_s)
    return GuardedWriter(client, guard, lookup_size=env.marketo_records_per_call)


@dataclass(frozen=True)
class FetchClients:
    """What the fetch, and the commands that run its logic, read and look up with."""

    source: LiveChatClient
    marketo: MarketoClient
    limiter: DynamoDBLimiter
    # lookups share the breaker with the upload: while Marketo is failing the run stops
    # early, the mark stays, and the next run reads the same chats again
    destination: GuardedWriter

    def close(self) -> None:
        self.source.close()
        self.marketo.close()


def fetch_clients(
    env: FetchEnv,
    credentials: Credentials,
    deadline: InvocationDeadline,
    environ: Mapping[str, str] | None = None,
) -> FetchClients:
    """LiveChat with its page retries, Marketo on the lane `environ` names (the process's
    environment by default), and the guarded writer, all within `deadline`."""
    source = livechat_client(credentials, remaining_s=deadline.remaining_s)
    marketo, limiter = marketo_client(credentials, env, env.state_table, deadline, environ)
    return FetchClients(source, marketo, limiter, guarded_writer(marketo, env, deadline))


def schema_gate(client: MarketoClient, state_table: str, errors: ErrorSink) -> SchemaGate:
    """The check the fetch and the uploads make before they write: the field map's fields
    exist on the instance and fit what leadsync writes (described at most once an hour)."""
    from leadsync.adapters.schema_verdict import SchemaVerdicts
    from leadsync.mapping.fieldmap import default_field_map
    from leadsync.readiness.gate import SchemaGate

    return SchemaGate(default_field_map(), client.lead_fields, SchemaVerdicts(state_table), errors)
