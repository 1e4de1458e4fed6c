"""Chats on the lead's timeline under chaos: every chat of a delivered visitor is one activity
on its lead, or an error-store entry with its reason; none is there twice."""

from __future__ import annotations

from collections import Counter
from typing import Any

from local.chaos.account import written_by_sync
from local.chaos.observe import StoredError
from local.chaos.report import ChaosReport
from local.check_run import run_check
from local.world import LocalWorld

TYPE = "livechatChat"
FIX_TRIES = 5  # `leadsync check --fix` meets Marketo's faults too


def make_activity_type(world: LocalWorld, say: Any) -> None:
    """What the operator does on day one: `leadsync check --fix` creates and approves the
    activity type (tried again while Marketo's faults fail it)."""
    for _ in range(FIX_TRIES):
        run_check(world, "--fix")
        if any(t.get("status") == "approved" for t in world.marketo_activity_types()):
            say("leadsync check --fix made the chat activity type")
            return
    raise RuntimeError("leadsync check --fix did not make the activity type")


def check_activities(
    activities: list[dict[str, Any]],
    visitors: list[dict[str, Any]],
    leads: list[dict[str, Any]],
    errors: list[StoredError],
    report: ChaosReport,
) -> None:
    """Each delivered visitor's chats against the activities Marketo holds."""
    written = Counter(str(a.get("primaryAttributeValue")) for a in activities)
    report.activities = len(written)
    report.duplicate_activities = sum(1 for n in written.values() if n > 1)
    report.duplicated_activities = sorted(chat for chat, n in written.items() if n > 1)[:20]
    reported = {chat for e in errors if e.reason.startswith("activity") for chat in e.chat_ids}
    by_email: dict[str, list[dict[str, Any]]] = {}
    for lead in leads:
        by_email.setdefault(str(lead.get("email") or "").strip().lower(), []).append(lead)
    lost: list[str] = []
    for visitor in visitors:
        email = str(visitor["email"]).strip().lower()
        if not any(written_by_sync(lead, visitor) for lead in by_email.get(email, [])):
            continue  # not delivered: accounted for with the visitors
        lost += [c for c in visitor.get("chat_ids") or () if c not in written and c not in reported]
    report.activities_reported = len(reported - set(written))
    report.lost_activities = len(lost)
    report.lost_activity_chats = sorted(lost)[:20]
