"""The chaos run reads each day's totals from the digest as its reader sees them."""

from __future__ import annotations

from datetime import UTC, date, datetime

from leadsync.report.digest import render
from leadsync.report.totals import DayTotals, Totals
from local.chaos.observe import read_digest, read_totals


def test_the_totals_table_is_read_per_day_and_tells_the_day_still_running() -> None:
    totals = Totals(
        zone="America/Chicago",
        days=(
            DayTotals(
                date(2026, 12, 5),
                {"chats_read": 4_100, "leads_created": 2_345, "marketo_calls": 80},
            ),
            DayTotals(
                date(2026, 12, 6),
                {"leads_updated": 12, "marketo_calls": 3},
                complete=False,
            ),
        ),
    )
    digest = render([], since=None, until=datetime(2026, 12, 6, 6, 10, tzinfo=UTC), totals=totals)
    shown, complete = read_totals(digest.text)
    assert shown["2026-12-05"] == {
        "Chats read": 4_100,
        "Leads created": 2_345,
        "Leads updated": 0,
        "Leads imported": 0,
        "Marketo calls": 80,
    }
    assert shown["2026-12-06"]["Marketo calls"] == 3
    assert shown["2026-12-06"]["Leads updated"] == 12
    assert complete == frozenset({"2026-12-05"})
    view = read_digest({"subject": digest.subject, "text": digest.text})
    assert view.totals == shown


def test_a_digest_without_totals_reads_as_none() -> None:
    digest = render([], since=None, until=datetime(2026, 12, 6, 6, 10, tzinfo=UTC))
    assert read_totals(digest.text) == ({}, frozenset())
