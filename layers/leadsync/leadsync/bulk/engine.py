"""One BulkQueue message → one step of a bulk job, and the message for the next step.

No Lambda waits for an import: every wait is a delayed message (a submit that found no free
slot, the next poll). Each step reads the job, does at most a few Marketo calls, and writes
the job back under its version, so a message delivered twice, or two copies of one message,
never submit a file twice at the same time nor run two chains of polls.

- submit.py: a staged file claimed a slot, leads written since left to REST, sent to Marketo
- poll.py: a job at Marketo polled; read_back.py once it is complete
- give_up.py: a job Marketo failed, or held past the give-up deadline
- watch.py: a job given up on, watched until Marketo ends it (a late import: chats read again)
- step.py: the ports, the result and the next message every step shares
"""

from __future__ import annotations

from leadsync.bulk.jobs import BulkMessage
from leadsync.bulk.poll import poll
from leadsync.bulk.schedule import BulkSettings
from leadsync.bulk.step import BulkPorts, Step, StepResult
from leadsync.bulk.submit import submit
from leadsync.runtime.clock import Clock, utc_now
from leadsync.runtime.observability import get_logger
from leadsync.sync.fetch.batching import BatchLimits


def process(
    message: BulkMessage,
    ports: BulkPorts,
    settings: BulkSettings,
    *,
    limits: BatchLimits,
    now: Clock = utc_now,
) -> StepResult:
    step = Step(ports, settings, limits, now(), message)
    job = ports.jobs.get(message.job_id)
    if job is None:
        get_logger().warning("bulk message for an unknown job", extra={"job_id": message.job_id})
        return step.result("unknown_job")
    if message.step == "submit":
        return submit(step, job)
    return poll(step, job)
