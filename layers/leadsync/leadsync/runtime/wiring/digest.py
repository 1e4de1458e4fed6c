"""What the daily digest reads and mails through: the error store, the dead-letter queue,
the day's counters and budget, the bulk jobs, SES."""

from __future__ import annotations

import os
from datetime import timedelta

from leadsync.adapters.bulk import DynamoDBJobStore
from leadsync.adapters.dead_letters import DeadLetters
from leadsync.adapters.mail import Mailer
from leadsync.adapters.queue import SqsQueue
from leadsync.adapters.state import StateStore
from leadsync.adapters.stats import DailyStats
from leadsync.limiter.readout import LanesReadout
from leadsync.report import digest_job
from leadsync.runtime import metrics
from leadsync.runtime.config import DigestEnv


def send_digest(env: DigestEnv) -> digest_job.DigestSummary:
    """Gather, render and mail the day's digest; its figures go to the metrics."""
    zone = env.marketo_quota_timezone
    summary = digest_job.run(
        state=StateStore(env.state_table),
        dead_letters=DeadLetters(env.dead_letter_queue_url),
        dead_letter_depth=SqsQueue(env.dead_letter_queue_url),
        mailer=Mailer(env.sender_email),
        recipients=env.admin_email,
        stats=DailyStats(env.state_table, zone=zone),
        budget=LanesReadout(env.state_table, os.environ),
        zone=zone,
        send_all_clear=env.digest_send_all_clear,
        bulk=DynamoDBJobStore(env.state_table),
        bulk_stuck_after=timedelta(minutes=env.bulk_stuck_after_minutes),
    )
    metrics.emit_digest(summary)
    return summary
