"""The day's figures the digest shows: each quota day's counters, the busiest hour of
Marketo calls, and the day's Marketo budget."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from leadsync.limiter.readout import BudgetReadout

# (label, counter) rows of the totals table, in order
TOTALS = (
    ("Chats read", "chats_read"),
    ("Leads created", "leads_created"),
    ("Leads updated", "leads_updated"),
    ("Leads imported", "leads_imported"),  # bulk: created or updated, Marketo does not say
    ("Chats rejected", "chats_rejected"),
    ("Records failed", "records_failed"),
    ("Chat activities written", "activities_written"),
    ("Chat activities refused", "activities_refused"),
    ("Marketo calls", "marketo_calls"),
)
HOUR_COUNTER = "marketo_calls_hour_"


@dataclass(frozen=True)
class DayTotals:
    """One quota day's counters; `complete` once the day ended before the digest."""

    day: date
    counters: Mapping[str, int]
    complete: bool = True

    def get(self, name: str) -> int:
        return int(self.counters.get(name, 0))

    def busiest_hour(self) -> tuple[int, int] | None:
        """(hour, calls) of the local hour with the most Marketo calls; the earliest on ties."""
        hours: dict[int, int] = {}
        for name, value in self.counters.items():
            suffix = name.removeprefix(HOUR_COUNTER)
            if suffix != name and suffix.isdigit() and int(suffix) < 24 and value > 0:
                hours[int(suffix)] = int(value)
        if not hours:
            return None
        hour = min(hours, key=lambda h: (-hours[h], h))
        return hour, hours[hour]


@dataclass(frozen=True)
class Totals:
    zone: str
    days: Sequence[DayTotals] = ()
    budget: BudgetReadout | None = None
