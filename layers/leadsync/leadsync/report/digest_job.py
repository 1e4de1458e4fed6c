"""The daily digest: what failed since the last digest, the day's totals, mailed.

Failures come from the error store (since the watermark) and the dead-letter queue (what
waits there now, read without taking it). The watermark moves only after SES accepted the
e-mail: a refused send raises, and the next run reports the same failures again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict

from leadsync.adapters.dead_letters import DeadLetter
from leadsync.bulk.report import JobReader, read_attention
from leadsync.limiter.readout import BudgetReadout
from leadsync.report.digest import render
from leadsync.report.ports import DigestState, MailSender, QueueDepth
from leadsync.report.totals import DayTotals, Totals
from leadsync.runtime.clock import Clock, as_utc, utc_now
from leadsync.runtime.observability import get_logger

# Dead letters read per digest to group them by cause; the queue's depth counts the rest.
DEAD_LETTER_SAMPLE = 200
# Quota days whose totals the digest shows: the last ones the period touches.
TOTAL_DAYS = 2


class DeadLetterReader(Protocol):
    def peek(self, limit: int = ...) -> list[DeadLetter]: ...


class StatsReader(Protocol):
    def read(self, day: date) -> dict[str, int]: ...


class BudgetReader(Protocol):
    def read(self) -> BudgetReadout: ...


class DigestSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    since: AwareDatetime | None
    until: AwareDatetime
    errors: int
    dead_letters: int
    sent: bool
    bulk_jobs: int = 0
    message_id: str | None = None


def run(
    *,
    state: DigestState,
    dead_letters: DeadLetterReader,
    dead_letter_depth: QueueDepth,
    mailer: MailSender,
    recipients: Sequence[str],
    stats: StatsReader | None = None,
    budget: BudgetReader | None = None,
    zone: str = "America/Chicago",
    send_all_clear: bool = False,
    now: Clock = utc_now,
    bulk: JobReader | None = None,
    bulk_stuck_after: timedelta = timedelta(minutes=60),
) -> DigestSummary:
    logger = get_logger()
    until = now()
    since = state.get_digest_watermark()
    entries = state.errors_between(since, until)
    letters = dead_letters.peek(DEAD_LETTER_SAMPLE)
    depth = dead_letter_depth.approximate_depth()
    totals = None
    if stats is not None or budget is not None:
        days = [] if stats is None else day_totals(stats, since, until, zone)
        totals = Totals(zone=zone, days=days, budget=budget.read() if budget else None)
    bulk_jobs = (
        read_attention(bulk, now=until, stuck_after=bulk_stuck_after, since=since)
        if bulk is not None
        else []
    )
    digest = render(
        entries,
        letters,
        depth=depth,
        since=since,
        until=until,
        totals=totals,
        bulk_jobs=bulk_jobs,
    )
    message_id: str | None = None
    if digest.all_clear and not send_all_clear:
        logger.info("nothing to report; no e-mail sent")
    else:
        message_id = mailer.send(recipients, digest.subject, digest.text, digest.html)
    state.put_digest_watermark(until)
    summary = DigestSummary(
        since=since,
        until=until,
        errors=digest.errors,
        dead_letters=digest.dead_letters,
        bulk_jobs=digest.bulk_jobs,
        sent=message_id is not None,
        message_id=message_id,
    )
    logger.info("digest done", extra=summary.model_dump(mode="json"))
    return summary


def day_totals(
    stats: StatsReader, since: datetime | None, until: datetime, zone: str
) -> list[DayTotals]:
    """The counters of the last TOTAL_DAYS quota days the period (since, until] touches;
    a past day with nothing counted is left out, the current day never is."""
    local = ZoneInfo(zone)
    last = as_utc(until).astimezone(local).date()
    start = since if since is not None else until - timedelta(days=1)
    first = max(as_utc(start).astimezone(local).date(), last - timedelta(days=TOTAL_DAYS - 1))
    out: list[DayTotals] = []
    day = first
    while day <= last:
        counters = stats.read(day)
        ends = datetime.combine(day + timedelta(days=1), time(), tzinfo=local)
        if counters or day == last:
            out.append(DayTotals(day=day, counters=counters, complete=ends <= until))
        day += timedelta(days=1)
    return out
