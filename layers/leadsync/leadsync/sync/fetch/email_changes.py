"""Following a LiveChat customer whose e-mail changed: the lead moves, it is never doubled.

The state remembers, per customer id, the address last synced. When a customer comes back
with another address, the old one is looked up with the new ones (same lookup calls), and:

- the old address has a lead, the new one none → that lead is updated by id, `email` set to
  the new address (a rename; never a create);
- both have leads → the new address's lead is updated and the old lead is reported as a
  possible duplicate of the same person (no merge: that is a person's call);
- only the new address has a lead → a normal update;
- neither → a normal create.

Pure: no I/O here.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from leadsync.mapping.sanitize import normalize_email
from leadsync.marketo.models import Lead


@dataclass(frozen=True)
class EmailChange:
    customer_id: str
    old: str
    new: str


class EmailChangeOutcome(StrEnum):
    RENAME = "rename"  # the old lead takes the new address
    UPDATE_KEEP_OLD = "update_keep_old"  # the new lead is updated; the old one reported
    UPDATE = "update"  # only the new address has a lead
    CREATE = "create"  # neither has: a normal create


@dataclass(frozen=True)
class EmailChangeDecision:
    """What to do for one new address (several customer ids may have moved to it)."""

    email: str  # the new address
    outcome: EmailChangeOutcome
    changes: tuple[EmailChange, ...]
    # the lead to write (by id) for RENAME, UPDATE_KEEP_OLD and UPDATE; None for CREATE
    lead_id: int | None = None
    # leads of the old addresses left alone that may be the same person
    possible_duplicates: tuple[int, ...] = ()


def detect_changes(
    seen: Iterable[tuple[str, str]], remembered: Mapping[str, str]
) -> list[EmailChange]:
    """(email, customer id) pairs of this run, oldest first, against the address remembered
    per customer id → the changes. The latest address of a customer wins; a customer never
    seen before, or unchanged, is no change; an address that is not one is ignored."""
    changes: list[EmailChange] = []
    for customer_id, new in latest_identities(seen).items():
        old = normalize_email(remembered.get(customer_id))
        if old is not None and old != new:
            changes.append(EmailChange(customer_id, old, new))
    return changes


def latest_identities(seen: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Customer id → the address to remember once this run's writes are done."""
    latest: dict[str, str] = {}
    for email, customer_id in seen:
        address = normalize_email(email)
        if address is not None and customer_id:
            latest[customer_id] = address
    return latest


def lookup_emails(emails: Iterable[str], changes: Iterable[EmailChange]) -> list[str]:
    """The addresses one lookup asks for: this run's, then the old ones, each once."""
    return list(dict.fromkeys([*emails, *(change.old for change in changes)]))


def resolve_email_changes(
    changes: Sequence[EmailChange],
    found: Mapping[str, Sequence[Lead]],
    *,
    in_use: Collection[str] = (),
) -> list[EmailChangeDecision]:
    """One decision per new address; see the module doc for the four outcomes.

    A lead is moved or written by at most one decision, and no address is created or
    renamed to twice. An old address still synced in this run (`in_use`, and every new
    address of `changes`) keeps its lead: someone still uses it. With several leads for an
    address, the oldest (lowest id) is the one written, as the planner does.
    """
    busy = {*in_use, *(change.new for change in changes)}
    groups: dict[str, list[EmailChange]] = {}
    for change in changes:
        groups.setdefault(change.new, []).append(change)
    taken: set[int] = set()
    decisions: list[EmailChangeDecision] = []
    for new in sorted(groups):
        group = tuple(sorted(groups[new], key=lambda change: change.customer_id))
        new_ids = _ids(found.get(new, ()), taken)
        old_ids = [
            lead_id
            for old in dict.fromkeys(change.old for change in group)
            if old not in busy
            for lead_id in _ids(found.get(old, ()), taken)
        ]
        if new_ids:
            outcome, lead_id = (
                (EmailChangeOutcome.UPDATE_KEEP_OLD if old_ids else EmailChangeOutcome.UPDATE),
                new_ids[0],
            )
        elif old_ids:
            outcome, lead_id = EmailChangeOutcome.RENAME, min(old_ids)
        else:
            decisions.append(EmailChangeDecision(new, EmailChangeOutcome.CREATE, group))
            continue
        duplicates = tuple(sorted(set(old_ids) - {lead_id}))
        taken.update({lead_id, *new_ids, *duplicates})
        decisions.append(EmailChangeDecision(new, outcome, group, lead_id, duplicates))
    return decisions


def _ids(leads: Sequence[Lead], taken: set[int]) -> list[int]:
    return sorted({lead.id for lead in leads} - taken)


def found_after(
    decisions: Iterable[EmailChangeDecision], found: Mapping[str, Sequence[Lead]]
) -> dict[str, list[Lead]]:
    """The lookup as the planner should see it once renames are decided: a renamed lead
    belongs to its new address (and no longer to its old one)."""
    after = {email: list(leads) for email, leads in found.items()}
    for decision in decisions:
        if decision.outcome is not EmailChangeOutcome.RENAME or decision.lead_id is None:
            continue
        moved = next(
            lead
            for change in decision.changes
            for lead in found.get(change.old, ())
            if lead.id == decision.lead_id
        )
        for change in decision.changes:
            after[change.old] = [lead for lead in after.get(change.old, []) if lead is not moved]
        after[decision.email] = [moved]
    return after


def renames(decisions: Iterable[EmailChangeDecision]) -> dict[int, str]:
    """Lead id → the new address its update must set as `email`."""
    return {
        decision.lead_id: decision.email
        for decision in decisions
        if decision.outcome is EmailChangeOutcome.RENAME and decision.lead_id is not None
    }
