"""`leadsync backfill`: windows from a date, its own resumable mark, refusal out of reach."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from leadsync.errors import ConditionFailed, DependencyError
from leadsync.ops.backfill import OutOfReach, backfill, mark_name
from leadsync.sync.failures import ErrorEntry
from leadsync.sync.fetch.batching import BatchLimits
from leadsync.sync.fetch.run import FetchSettings
from leadsync.sync.messages import SyncBatch
from tests.support.chats import customer, entry, thread
from tests.support.fakes import FakeMarketo

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
SINCE = datetime(2026, 3, 7, tzinfo=UTC)
SETTINGS = FetchSettings(limits=BatchLimits(300, 200_000))


def chats() -> list[dict[str, Any]]:
    """A chat every 6 hours from SINCE to NOW, each from its own visitor."""
    out = []
    at, n = SINCE + timedelta(hours=1), 0
    while at < NOW:
        stamp = at.strftime("%Y-%m-%dT%H:%M:%S.000000Z")
        user = customer(email=f"v{n}@example.com", user_id=f"cust-{n}")
        out.append(entry(f"C{n}", user=user, thread_=thread(f"T{n}", stamp)))
        at, n = at + timedelta(hours=6), n + 1
    return out


@dataclass
class WindowedSource:
    entries: list[dict[str, Any]]
    windows: list[tuple[datetime, datetime]] = field(default_factory=list)

    def list_archives(self, since: datetime, until: datetime) -> Iterator[Any]:
        self.windows.append((since, until))
        for item in self.entries:
            at = datetime.fromisoformat(item["thread"]["created_at"].replace("Z", "+00:00"))
            if since < at <= until:
                yield item


@dataclass
class MarksState:
    marks: dict[str, datetime] = field(default_factory=dict)
    errors: list[ErrorEntry] = field(default_factory=list)

    def get_high_water_mark(self, source: str = "livechat") -> datetime | None:
        return self.marks.get(source)

    def put_high_water_mark(self, mark: datetime, source: str = "livechat") -> None:
        if source in self.marks and self.marks[source] > mark:
            raise ConditionFailed("newer")
        self.marks[source] = mark

    def record_errors(self, entries: Iterable[ErrorEntry]) -> int:
        added = list(entries)
        self.errors.extend(added)
        return len(added)


@dataclass
class CrashingQueue:
    batches: list[SyncBatch] = field(default_factory=list)
    crash_on_call: int | None = None
    calls: int = 0

    def send_batches(self, batches: Any) -> int:
        self.calls += 1
        if self.calls == self.crash_on_call:
            raise DependencyError("sqs down", dependency="sqs", retryable=True)
        self.batches.extend(batches)
        return len(batches)


def emails(queue: CrashingQueue) -> list[str]:
    return [record.email for batch in queue.batches for record in batch.records]


def test_a_start_older_than_livechat_keeps_is_refused_with_the_oldest_date() -> None:
    with pytest.raises(OutOfReach) as info:
        backfill(
            source=WindowedSource([]),
            state=MarksState(),
            queue=CrashingQueue(),
            destination=FakeMarketo(),
            settings=SETTINGS,
            since=NOW - timedelta(days=61),
            retention_days=60,
            now=lambda: NOW,
        )
    assert "out of reach" in str(info.value)
    assert "2026-01-09" in str(info.value)  # the oldest reachable date is named


def test_every_chat_in_windows_with_its_own_mark() -> None:
    source, state, queue = WindowedSource(chats()), MarksState(), CrashingQueue()
    report = backfill(
        source=source,
        state=state,
        queue=queue,
        destination=FakeMarketo(),
        settings=SETTINGS,
        since=SINCE,
        window=timedelta(hours=24),
        retention_days=60,
        now=lambda: NOW,
    )
    assert report.done
    assert source.windows == [
        (SINCE + timedelta(days=d), min(SINCE + timedelta(days=d + 1), NOW)) for d in range(4)
    ]
    assert sorted(emails(queue)) == sorted(f"v{n}@example.com" for n in range(len(chats())))
    assert state.marks == {mark_name(SINCE): NOW}  # the hourly mark is not touched
    assert "windows=4" in report.line()


def test_a_crash_anywhere_resumes_from_the_last_whole_window_without_duplicates() -> None:
    source, state = WindowedSource(chats()), MarksState()
    queue = CrashingQueue(crash_on_call=3)
    kwargs: dict[str, Any] = {
        "source": source,
        "state": state,
        "destination": FakeMarketo(),
        "settings": SETTINGS,
        "since": SINCE,
        "window": timedelta(hours=24),
        "retention_days": 60,
        "now": lambda: NOW,
    }
    with pytest.raises(DependencyError):
        backfill(queue=queue, **kwargs)
    assert state.marks[mark_name(SINCE)] == SINCE + timedelta(days=2)
    queue.crash_on_call = None
    report = backfill(queue=queue, **kwargs)
    assert report.resumed_from == SINCE + timedelta(days=2)
    assert len(report.windows) == 2
    queued = emails(queue)
    assert len(queued) == len(set(queued)) == len(chats())
