"""The digest e-mails checked against the stores: each day's digest shows what the error
store took in that day and the dead letters waiting when it was sent, and its totals never
show more than Marketo saw."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from local.chaos.observe import DigestView, Observed, instant, stored_groups
from local.chaos.report import ChaosReport


def check_digests(observed: Observed, report: ChaosReport) -> None:
    """Each day's digest shows what the error store took in that day, and the dead letters
    waiting when it was sent."""
    report.digest_sent = observed.digest is not None or any(d.view for d in observed.days)
    if not report.digest_sent:
        report.digest_problems.append("no digest e-mail was sent")
        return
    for day in observed.days:
        since = instant(day.since) if day.since else None
        until = instant(day.until)
        errors = [
            e
            for e in observed.errors
            if (at := instant(e.at)) is not None
            and (since is None or at > since)
            and (until is None or at <= until)
        ]
        if day.view is None:
            if errors or day.dead_letters_then:  # a quiet day sends nothing (all clear off)
                report.digest_problems.append(f"{day.day}: no digest was sent")
            continue
        _compare(day.day, day.view, stored_groups(errors), day.dead_letters_then, report)


def _compare(
    day: str,
    digest: DigestView,
    expected: dict[tuple[str, str], int],
    depth: int,
    report: ChaosReport,
) -> None:
    for group in sorted(set(expected) | set(digest.groups)):
        shown, stored = digest.groups.get(group), expected.get(group)
        if shown != stored:
            report.digest_problems.append(
                f"{day}: {group[0]} / {group[1]}: the digest shows {shown}, "
                f"the error store took in {stored}"
            )
    if digest.dead_letters != depth:
        report.digest_problems.append(
            f"{day}: dead letters: the digest shows {digest.dead_letters}, the queue held {depth}"
        )


def check_day_totals(observed: Observed, report: ChaosReport, zone: ZoneInfo) -> None:
    """Each day's digest counts what that day did: its column for the day (sent after the
    day ended) never shows more Marketo calls than Marketo received from leadsync that day,
    nor more leads created than Marketo created that day, and shows work on a day that had
    some. Calls of an invocation killed mid-run are made but never added to the totals;
    how many is reported per day."""
    created: dict[str, int] = {}
    seeded = {str(known["email"]).strip().lower() for known in observed.seeded}
    for lead in observed.leads:
        at = instant(lead.get("createdAt"))
        if at is None or str(lead.get("email") or "").strip().lower() in seeded:
            continue
        day = at.astimezone(zone).date().isoformat()
        created[day] = created.get(day, 0) + 1
    for digest in observed.days:
        received = report.calls_received_by_day.get(digest.day, 0)
        figures: dict[str, Any] = {
            "day": digest.day,
            "calls_counted_by_marketo": report.calls_by_day.get(digest.day, 0),
            "calls_received_by_marketo": received,
        }
        report.day_totals.append(figures)
        view = digest.view
        if view is None or digest.day not in view.complete_days:
            if received:
                report.digest_problems.append(f"{digest.day}: no digest shows the whole day")
            continue
        shown = view.totals.get(digest.day, {})
        calls = shown.get("Marketo calls", 0)
        made = shown.get("Leads created", 0)
        figures.update(
            calls_shown=calls,
            calls_unrecorded=received - calls,
            created_shown=made,
            created_at_marketo=created.get(digest.day, 0),
            updated_shown=shown.get("Leads updated", 0),
            imported_shown=shown.get("Leads imported", 0),
        )
        if calls > received:
            report.digest_problems.append(
                f"{digest.day}: the digest shows {calls} Marketo calls, Marketo received {received}"
            )
        if received and not calls:
            report.digest_problems.append(f"{digest.day}: the digest shows no Marketo calls")
        if made > created.get(digest.day, 0):
            report.digest_problems.append(
                f"{digest.day}: the digest shows {made} leads created, "
                f"Marketo created {created.get(digest.day, 0)}"
            )
