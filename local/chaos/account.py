"""Every visitor accounted for: delivered with the chat's values, or reported (the error store
or a dead letter, its cause named by the digest), else lost; and the checks beside it."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from local.chaos.observe import DeadLetterView, DigestView, Observed, StoredError, stored_groups
from local.chaos.report import ChaosReport
from local.sync_run import LIMIT_CODES, SEEDED_GEOGRAPHY

NEIGHBOUR = "other-integration@marketo.sim"


def _instant(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC).replace(microsecond=0)


def written_by_sync(lead: dict[str, Any], visitor: dict[str, Any]) -> bool:
    """The lead carries the time of the visitor's latest thread (which may be later than the
    last thread the simulator saw the e-mail in: a chat's e-mail holds for all its threads)
    and a chat count. A visitor whose chats fell in several fetch windows has the count of
    one window (see `count_behind`)."""
    seen = _instant(visitor.get("last_seen"))
    written = _instant(lead.get("livechatLastChat"))
    return (
        int(lead.get("livechatChatCount") or 0) >= 1
        and seen is not None
        and written is not None
        and written >= seen
    )


def count_behind(lead: dict[str, Any], visitor: dict[str, Any]) -> bool:
    """livechatChatCount counts the visitor's chats in one fetch window, not all of them."""
    return int(lead.get("livechatChatCount") or 0) < len(visitor.get("chat_ids") or ())


def account(observed: Observed, report: ChaosReport) -> ChaosReport:
    leads_by_email: dict[str, list[dict[str, Any]]] = {}
    for lead in observed.leads:
        email = str(lead.get("email") or "").strip().lower()
        leads_by_email.setdefault(email, []).append(lead)

    _check_digests(observed, report)
    named = {group for day in observed.days if day.view for group in day.view.groups}
    if observed.digest is not None:
        named |= set(observed.digest.groups)
    dead_named = (
        observed.digest is not None
        and observed.digest.dead_letters == observed.dead_letter_depth
        and observed.dead_letter_depth > 0
    )
    undeliverable: dict[str, list[StoredError]] = {}
    for entry in observed.errors:
        if entry.kind == "undeliverable" and entry.email:
            undeliverable.setdefault(entry.email, []).append(entry)
    dead: dict[str, DeadLetterView] = {}
    for letter in observed.dead_letters:
        for email in letter.emails:
            dead.setdefault(email, letter)

    report.visitors = len(observed.visitors)
    causes: Counter[str] = Counter()
    lost_why: Counter[str] = Counter()
    for visitor in observed.visitors:
        email = str(visitor["email"]).strip().lower()
        leads = leads_by_email.get(email, [])
        written = [lead for lead in leads if written_by_sync(lead, visitor)]
        if written:
            report.delivered += 1
            report.chat_count_behind += any(count_behind(lead, visitor) for lead in written)
            continue
        entries = undeliverable.get(email, [])
        told = [e for e in entries if ("undeliverable", e.reason) in named]
        if told:
            report.reported += 1
            causes[f"error store: {told[-1].reason}"] += 1
            continue
        if email in dead and dead_named and _cause_named(observed.digest, dead[email]):
            report.reported += 1
            causes[f"dead letter: {dead[email].cause}"] += 1
            continue
        why = _why_lost(leads, entries, email in dead, report.fetched)
        lost_why[why] += 1
        report.lost_visitors.append(
            {
                "email": email,
                "why": why,
                "chat_ids": visitor.get("chat_ids"),
                "last_seen": visitor.get("last_seen"),
                "leads": [_lead_summary(lead) for lead in leads],
                "error_store": [asdict(e) for e in entries],
                "dead_letter": asdict(dead[email]) if email in dead else None,
            }
        )
    report.lost = report.visitors - report.delivered - report.reported
    report.reported_by_cause = dict(causes.most_common())
    report.lost_by_why = dict(lost_why.most_common())

    for email, leads in sorted(leads_by_email.items()):
        if len(leads) > 1:
            report.duplicated.append(
                {"email": email, "leads": [_lead_summary(lead) for lead in leads]}
            )
    report.duplicate_leads = len(report.duplicated)
    _check_protected(observed.seeded, leads_by_email, report)

    for request in observed.requests:
        if request.get("user") == NEIGHBOUR:
            continue
        codes = sorted(LIMIT_CODES.intersection(str(c) for c in request.get("errors") or ()))
        if codes:
            report.limit_errors.append(
                {k: request.get(k) for k in ("seq", "time", "action", "user", "errors")}
            )
    report.limit_errors_caused = len(report.limit_errors)
    report.faults_seen = faults_seen(observed.requests)
    report.marketo_calls = sum(
        1 for r in observed.requests if r.get("user") != NEIGHBOUR and r.get("counted")
    )

    with_visitor = {str(c) for v in observed.visitors for c in v.get("chat_ids") or ()}
    report.chats = observed.chats
    report.rejected_chats = observed.chats - len(with_visitor)
    rejected_ids = {c for e in observed.errors if e.kind == "rejected" for c in e.chat_ids}
    report.rejected_in_store = len(rejected_ids - with_visitor)
    report.error_entries = len(observed.errors)
    report.dead_letters = observed.dead_letter_depth
    report.dead_letter_details = [
        {**asdict(letter), "emails": len(letter.emails)} for letter in observed.dead_letters
    ]
    return report


def _cause_named(digest: DigestView | None, letter: DeadLetterView) -> bool:
    """The digest names the dead letter's cause (a digest listing no causes only counts)."""
    if digest is None:
        return False
    return not digest.dead_letter_causes or letter.cause in digest.dead_letter_causes


def faults_seen(requests: list[dict[str, Any]]) -> dict[str, int]:
    """What the simulator did to leadsync's calls, from its audit."""
    seen: Counter[str] = Counter()
    for request in requests:
        if request.get("user") == NEIGHBOUR:
            continue
        errors = {str(code) for code in request.get("errors") or ()}
        status = int(request.get("http_status") or 0)
        seen["http_5xx"] += status >= 500
        seen["timeouts"] += "604" in errors or status == 0
        seen["token_expired"] += bool(errors & {"601", "602"})
        seen["records_refused"] += sum(1 for code in request.get("reasons") or () if code == "1003")
    return dict(seen)


def _why_lost(
    leads: list[dict[str, Any]], entries: list[StoredError], dead: bool, fetched: bool
) -> str:
    if not fetched:
        return "never queued: every scheduled fetch failed, and nothing reports it"
    if entries:
        return "in the error store, but the digest does not name its cause"
    if dead:
        return "in a dead letter, but the digest does not show it or its cause"
    if leads:
        return "a lead exists, without the chat's values, and nothing reports why"
    return "no lead, nothing in the error store or the dead-letter queue"


def _lead_summary(lead: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "id",
        "email",
        "createdAt",
        "updatedAt",
        "leadSource",
        "country",
        "state",
        "city",
        "livechatChatCount",
        "livechatLastChat",
    )
    return {k: lead.get(k) for k in keys}


def _check_protected(
    seeded: list[dict[str, Any]],
    leads_by_email: dict[str, list[dict[str, Any]]],
    report: ChaosReport,
) -> None:
    """A lead Marketo knew before the sync keeps its lead source, and its geography."""
    for known in seeded:
        email = str(known["email"]).strip().lower()
        leads = sorted(leads_by_email.get(email, []), key=lambda lead: int(lead.get("id") or 0))
        original = leads[0] if leads else None
        protected = {"leadSource": known["leadSource"]}
        protected.update({k: v for k, v in SEEDED_GEOGRAPHY.items() if k in known})
        changed = {
            name: None if original is None else original.get(name)
            for name, value in protected.items()
            if original is None or original.get(name) != value
        }
        if changed:
            report.overwritten.append({"email": email, "was": protected, "now": changed})
    report.protected_overwritten = len(report.overwritten)


def _check_digests(observed: Observed, report: ChaosReport) -> None:
    """Each day's digest shows what the error store took in that day, and the dead letters
    waiting when it was sent."""
    report.digest_sent = observed.digest is not None or any(d.view for d in observed.days)
    if not report.digest_sent:
        report.digest_problems.append("no digest e-mail was sent")
        return
    for day in observed.days:
        since = _instant(day.since) if day.since else None
        until = _instant(day.until)
        errors = [
            e
            for e in observed.errors
            if (at := _instant(e.at)) is not None
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
        at = _instant(lead.get("createdAt"))
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
