"""Every visitor accounted for: delivered with the chat's values, or reported (the error store
or a dead letter, its cause named by the digest), else lost; and the checks beside it."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any

from local.chaos.digest_checks import check_digests
from local.chaos.observe import DeadLetterView, DigestView, Observed, StoredError, instant
from local.chaos.report import ChaosReport
from local.sync_run import LIMIT_CODES, SEEDED_GEOGRAPHY

NEIGHBOUR = "other-integration@marketo.sim"

Leads = dict[str, list[dict[str, Any]]]  # lower-case e-mail → the leads that carry it


def written_by_sync(lead: dict[str, Any], visitor: dict[str, Any]) -> bool:
    """The lead carries the time of the visitor's latest thread (which may be later than the
    last thread the simulator saw the e-mail in: a chat's e-mail holds for all its threads)
    and a chat count. A visitor whose chats fell in several fetch windows has the count of
    one window (see `count_behind`)."""
    seen = instant(visitor.get("last_seen"))
    written = instant(lead.get("livechatLastChat"))
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
    leads_by_email: Leads = {}
    for lead in observed.leads:
        email = str(lead.get("email") or "").strip().lower()
        leads_by_email.setdefault(email, []).append(lead)
    check_digests(observed, report)
    _account_visitors(observed, leads_by_email, report)
    for email, leads in sorted(leads_by_email.items()):
        if len(leads) > 1:
            report.duplicated.append(
                {"email": email, "leads": [_lead_summary(lead) for lead in leads]}
            )
    report.duplicate_leads = len(report.duplicated)
    _check_protected(observed.seeded, leads_by_email, report)
    _check_calls(observed.requests, report)
    _count_stores(observed, report)
    return report


@dataclass(frozen=True)
class _Reports:
    """Where a visitor not delivered may be reported, and what the digests name."""

    named: set[tuple[str, str]]  # error-store groups a digest shows
    dead_named: bool  # the last digest shows the dead letters waiting
    undeliverable: dict[str, list[StoredError]]  # by e-mail
    dead: dict[str, DeadLetterView]  # by e-mail
    digest: DigestView | None

    @classmethod
    def of(cls, observed: Observed) -> _Reports:
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
        return cls(named, dead_named, undeliverable, dead, observed.digest)

    def cause(self, email: str) -> str | None:
        """The cause the admin was told of, or None when nothing reports the visitor."""
        entries = self.undeliverable.get(email, [])
        told = [e for e in entries if ("undeliverable", e.reason) in self.named]
        if told:
            return f"error store: {told[-1].reason}"
        letter = self.dead.get(email)
        if letter is not None and self.dead_named and _cause_named(self.digest, letter):
            return f"dead letter: {letter.cause}"
        return None


def _account_visitors(observed: Observed, leads_by_email: Leads, report: ChaosReport) -> None:
    reports = _Reports.of(observed)
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
        cause = reports.cause(email)
        if cause is not None:
            report.reported += 1
            causes[cause] += 1
            continue
        lost = _lost(email, visitor, leads, reports, report.fetched)
        lost_why[lost["why"]] += 1
        report.lost_visitors.append(lost)
    report.lost = report.visitors - report.delivered - report.reported
    report.reported_by_cause = dict(causes.most_common())
    report.lost_by_why = dict(lost_why.most_common())


def _lost(
    email: str,
    visitor: dict[str, Any],
    leads: list[dict[str, Any]],
    reports: _Reports,
    fetched: bool,
) -> dict[str, Any]:
    """A lost visitor, with why and everything found under its e-mail."""
    entries = reports.undeliverable.get(email, [])
    letter = reports.dead.get(email)
    return {
        "email": email,
        "why": _why_lost(leads, entries, letter is not None, fetched),
        "chat_ids": visitor.get("chat_ids"),
        "last_seen": visitor.get("last_seen"),
        "leads": [_lead_summary(lead) for lead in leads],
        "error_store": [asdict(e) for e in entries],
        "dead_letter": asdict(letter) if letter is not None else None,
    }


def _cause_named(digest: DigestView | None, letter: DeadLetterView) -> bool:
    """The digest names the dead letter's cause (a digest listing no causes only counts)."""
    if digest is None:
        return False
    return not digest.dead_letter_causes or letter.cause in digest.dead_letter_causes


def _check_calls(requests: list[dict[str, Any]], report: ChaosReport) -> None:
    """leadsync's calls in the simulator's audit: the limit errors it caused, the faults it
    met and the calls Marketo counted."""
    for request in requests:
        if request.get("user") == NEIGHBOUR:
            continue
        codes = sorted(LIMIT_CODES.intersection(str(c) for c in request.get("errors") or ()))
        if codes:
            report.limit_errors.append(
                {k: request.get(k) for k in ("seq", "time", "action", "user", "errors")}
            )
    report.limit_errors_caused = len(report.limit_errors)
    report.faults_seen = faults_seen(requests)
    report.marketo_calls = sum(
        1 for r in requests if r.get("user") != NEIGHBOUR and r.get("counted")
    )


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


def _count_stores(observed: Observed, report: ChaosReport) -> None:
    """The chats read, the rejected ones the error store holds, the dead letters."""
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
    leads_by_email: Leads,
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
