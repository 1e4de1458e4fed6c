"""What GET /health probes, for one invocation: LiveChat and Marketo (short timeouts), the
last run's mark, the queues' depths, the day's budget, the breaker and the schema verdict."""

from __future__ import annotations

import os
from datetime import timedelta

from leadsync.adapters.queue import SqsQueue
from leadsync.adapters.schema_verdict import SchemaVerdicts
from leadsync.adapters.state import StateStore
from leadsync.limiter.readout import LanesReadout
from leadsync.report.health import Budget, HealthReport, HealthSettings, assess, schema_stop
from leadsync.runtime import metrics
from leadsync.runtime.clock import utc_now
from leadsync.runtime.config import HealthEnv
from leadsync.runtime.observability import get_logger
from leadsync.runtime.secrets import load_credentials
from leadsync.runtime.wiring.clients import livechat_client, marketo_breaker, marketo_client
from leadsync.runtime.wiring.deadline import InvocationDeadline

# a health check answers quickly: LiveChat's (connect, read) timeouts, in seconds
LIVECHAT_TIMEOUT = (3.0, 5.0)


def _budget(env: HealthEnv) -> Budget:
    readout = LanesReadout(env.state_table, os.environ).read()
    return Budget(readout.used, readout.left, readout.cap, readout.quota_exhausted)


def check_health(env: HealthEnv, deadline: InvocationDeadline) -> HealthReport:
    """Every probe at once (no Marketo call but the token's), logged and counted."""
    now = utc_now()
    credentials = load_credentials(env.credentials_secret)
    livechat = livechat_client(credentials, timeout=LIVECHAT_TIMEOUT)
    marketo, _ = marketo_client(credentials, env, env.state_table, deadline)
    queues = {"sync": env.sync_queue_url, "dead_letters": env.dead_letter_queue_url}
    if env.priority_queue_url:
        queues["priority"] = env.priority_queue_url
    try:
        report = assess(
            now=now,
            livechat=lambda: livechat.check(now),
            marketo=marketo.check_token,
            last_run=StateStore(env.state_table).get_high_water_mark,
            queue_depths={name: SqsQueue(url).approximate_depth for name, url in queues.items()},
            dead_letter_queue="dead_letters",
            budget=lambda: _budget(env),
            breaker=lambda: marketo_breaker(env.state_table).snapshot().state,
            settings=HealthSettings(max_run_age=timedelta(minutes=env.health_max_run_age_minutes)),
            schema=lambda: schema_stop(SchemaVerdicts(env.state_table).get()),
        )
    finally:
        livechat.close()
        marketo.close()
    log = get_logger().info if report.healthy else get_logger().warning
    log("health", extra={"healthy": report.healthy, "reasons": report.reasons})
    metrics.emit({"HealthChecks": 1, "Unhealthy": 0 if report.healthy else 1})
    return report
