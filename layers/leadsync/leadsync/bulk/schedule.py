"""When to poll, when a job is stuck, when to give up on it, how long to watch it after:
pure arithmetic, time injected."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from leadsync.bulk.csvfile import DEFAULT_MAX_FILE_BYTES
from leadsync.sync.messages import SQS_MAX_DELAY_SECONDS

DEFAULT_POLL_DELAYS = (5, 10, 20, 30)


@dataclass(frozen=True)
class BulkSettings:
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    # Marketo runs 2 imports at once and holds 10 (running included) per instance; leadsync
    # keeps at most `queued_slots` of its own there (every integration shares them)
    running_slots: int = 2
    queued_slots: int = 10
    # delays between polls of one job, the last one repeated
    poll_delays: tuple[int, ...] = DEFAULT_POLL_DELAYS
    # a submit that found no free slot waits this long before it tries again
    busy_delay_seconds: int = 60
    # a job waiting at Marketo longer than this is reported as stuck (its polls slow down)
    stuck_after: timedelta = timedelta(minutes=60)
    stuck_poll_seconds: int = 300
    # ...and after this, its records go to the REST path instead
    give_up_after: timedelta = timedelta(hours=24)
    # Marketo cannot cancel an import: a job given up on is still looked at, first after
    # `watch_first`, then as long again as it has been watched, at most every
    # `watch_longest`, for `watch_for` (about as long as Marketo keeps a job's status)
    watch_first: timedelta = timedelta(minutes=15)
    watch_longest: timedelta = timedelta(hours=6)
    watch_for: timedelta = timedelta(days=7)
    # a submit left half-done (no answer recorded) this long ago is considered dead
    submit_lease: timedelta = timedelta(minutes=15)
    max_submissions: int = 3
    warnings_are_failures: bool = False
    lookup_field: str = "email"

    def __post_init__(self) -> None:
        if not self.poll_delays or any(d < 0 for d in self.poll_delays):
            raise ValueError("poll delays must be a non-empty list of seconds")
        if not 1 <= self.running_slots <= self.queued_slots:
            raise ValueError("running slots must be at least 1 and at most the queued slots")
        if self.max_submissions < 1:
            raise ValueError("a job must be submitted at least once")
        if self.give_up_after <= self.stuck_after:
            raise ValueError("the give-up deadline must come after the stuck deadline")
        if not timedelta(0) < self.watch_first <= self.watch_longest:
            raise ValueError("a rerouted job's first look must come, and before its longest wait")


def poll_delay(polls_done: int, settings: BulkSettings, *, stuck: bool = False) -> int:
    """Seconds before the next poll of a job polled `polls_done` times: the schedule, its
    last step repeated; a stuck job is polled at the slower stuck pace."""
    delays = settings.poll_delays
    delay = delays[min(polls_done, len(delays) - 1)]
    if stuck:
        delay = max(delay, settings.stuck_poll_seconds)
    return max(0, min(delay, SQS_MAX_DELAY_SECONDS))


def busy_delay(waits: int, settings: BulkSettings) -> int:
    """A submit without a slot waits longer each time, up to SQS's limit."""
    grown: int = settings.busy_delay_seconds * 2 ** min(waits, 4)
    return max(0, min(grown, SQS_MAX_DELAY_SECONDS))


def watch_delay(watched: timedelta, settings: BulkSettings) -> timedelta:
    """The wait before the next look at a job rerouted `watched` ago: `watch_first` at
    first, then as long again as it has been watched (each wait about doubles), at most
    `watch_longest`."""
    return min(max(watched, settings.watch_first), settings.watch_longest)
