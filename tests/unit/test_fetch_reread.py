"""The fetch reads chats again after a late bulk import: from the earlier of its mark and the
request, decided against the leads as the import left them, and the request cleared only
once read, and only if nobody asked again meanwhile."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from leadsync.sync.fetch.batching import BatchLimits
from leadsync.sync.fetch.reread import Reread
from leadsync.sync.fetch.run import FetchSettings, fetch_window
from tests.support.chats import customer, entry, thread
from tests.support.fakes import FakeMarketo, FakeQueue, FakeRereads, FakeSource, FakeState
from tests.support.fetch_run import fetch_once

NOW = datetime(2026, 1, 15, 13, 0, tzinfo=UTC)
MARK = NOW - timedelta(hours=1)
OVERLAP = timedelta(minutes=10)
SETTINGS = FetchSettings(limits=BatchLimits(300, 200_000), overlap=OVERLAP)
# the file was decided the day before; Marketo imported it at 12:40, after the REST path had
# written the visitor's newer chat (12:00)
STAGED = datetime(2026, 1, 14, 14, 0, tzinfo=UTC)
LATE = Reread(
    read_from=STAGED,
    staged_at=STAGED,
    imported_from=datetime(2026, 1, 15, 12, 30, tzinfo=UTC),
    imported_until=datetime(2026, 1, 15, 12, 50, tzinfo=UTC),
    version=1,
)


def test_the_window_starts_at_the_earlier_of_the_mark_and_the_reread() -> None:
    assert fetch_window(MARK, NOW, SETTINGS, STAGED) == (STAGED - OVERLAP, NOW)
    assert fetch_window(MARK, NOW, SETTINGS, NOW) == (MARK - OVERLAP, NOW)
    long_ago = NOW - timedelta(days=3)
    assert fetch_window(MARK, NOW, SETTINGS, long_ago) == (
        long_ago - OVERLAP,
        long_ago - OVERLAP + timedelta(hours=24),
    )


def test_a_reread_is_read_then_cleared_and_the_mark_moves_on() -> None:
    source, state, queue = FakeSource([entry("C1")]), FakeState(mark=MARK), FakeQueue()
    rereads = FakeRereads(LATE)
    summary = fetch_once(source, state, queue, settings=SETTINGS, at=NOW, rereads=rereads)
    assert source.windows == [(STAGED - OVERLAP, NOW)]
    assert summary.read_again_from == STAGED
    assert (summary.mark_advanced, state.mark) == (True, NOW)
    assert rereads.stored is None
    # the next run reads from its mark again
    later = NOW + timedelta(hours=1)
    fetch_once(source, state, queue, settings=SETTINGS, at=later, rereads=rereads)
    assert source.windows[-1] == (NOW - OVERLAP, later)


@dataclass
class AskedDuringTheRun:
    """LiveChat read while another late import asks for chats to be read again."""

    rereads: FakeRereads
    asked: Reread

    def list_archives(self, since: datetime, until: datetime) -> Iterator[Any]:
        self.rereads.request(self.asked)
        yield entry("C1")


def test_a_request_made_during_the_run_is_kept_for_the_next_one() -> None:
    rereads = FakeRereads(LATE)
    later = Reread(STAGED + timedelta(hours=3), STAGED, LATE.imported_from, NOW)
    source = AskedDuringTheRun(rereads, later)
    fetch_once(
        source, FakeState(mark=MARK), FakeQueue(), settings=SETTINGS, at=NOW, rereads=rereads
    )
    assert rereads.log == ["kept"]
    assert rereads.stored is not None
    assert (rereads.stored.read_from, rereads.stored.imported_until) == (STAGED, NOW)


def test_a_reread_longer_than_a_window_goes_on_where_it_stopped_then_moves_the_mark() -> None:
    start = NOW - timedelta(hours=30)
    rereads = FakeRereads(Reread(start, start, NOW - timedelta(hours=2), NOW, version=1))
    source, state, queue = FakeSource([]), FakeState(mark=MARK), FakeQueue()
    first = fetch_once(source, state, queue, settings=SETTINGS, at=NOW, rereads=rereads)
    stop = start - OVERLAP + timedelta(hours=24)
    assert source.windows == [(start - OVERLAP, stop)]
    # the mark stays where it was, the request goes on from the window's end
    assert (first.mark_advanced, state.mark) == (False, MARK)
    assert rereads.stored is not None
    assert rereads.stored.read_from == stop
    fetch_once(source, state, queue, settings=SETTINGS, at=NOW, rereads=rereads)
    assert source.windows[-1] == (stop - OVERLAP, NOW)
    assert (state.mark, rereads.pending(), rereads.log) == (NOW, None, ["advanced", "cleared"])


def test_a_lead_the_late_import_wrote_last_gets_the_newer_chat_again() -> None:
    """newest_wins compares the chat with the lead's last update: after the late import that
    is the import's, whose values are as old as its file."""
    entries = [
        entry("C1", user=customer(email="a@example.com", name="Jane Newer", user_id="u1")),
        entry(
            "C2",
            user=customer(email="b@example.com", name="Bob Chat", user_id="u2"),
            thread_=thread("T2"),
        ),
    ]

    def decided(rereads: FakeRereads | None) -> dict[str, dict[str, Any]]:
        marketo = FakeMarketo()
        # a: last written by the import (the file's older name)
        marketo.add(email="a@example.com", firstName="Jane Older", updatedAt="2026-01-15T12:40:00Z")
        # b: a person typed another name after the import; the chat is older than that
        marketo.add(email="b@example.com", firstName="Robert", updatedAt="2026-01-15T12:55:00Z")
        queue = FakeQueue()
        options: dict[str, Any] = {"rereads": rereads} if rereads is not None else {}
        fetch_once(
            FakeSource(entries),
            FakeState(mark=MARK),
            queue,
            settings=SETTINGS,
            at=NOW,
            destination=marketo,
            **options,
        )
        return {r.email: r.fields for b in queue.batches for r in b.records}

    assert "firstName" not in decided(None).get("a@example.com", {})  # the import's name stays
    again = decided(FakeRereads(LATE))
    assert again["a@example.com"]["firstName"] == "Jane"
    assert "firstName" not in again.get("b@example.com", {})  # the person's edit is newer
