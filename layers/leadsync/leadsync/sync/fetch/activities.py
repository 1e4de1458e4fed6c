"""The run's chat activities: one per chat of each visitor written, on the visitor's lead.

A chat whose activity Marketo already holds (the activity ledger says so: an overlapping
window, a chat read again) is left out here; the upload checks again before it writes. An
activity names its lead by id when the lookup found the one lead, else by e-mail: the lead
is created by this run, and the create announces its id (as for list operations). Activities
go in messages of at most 300 (one Marketo call) that fit one SQS message; one that cannot
fit any goes to the error store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from leadsync.activities.config import ActivityMap
from leadsync.activities.facts import ChatFacts, chat_facts
from leadsync.activities.records import ChatActivity, activity_for
from leadsync.mapping.livechat_chats import combine_threads
from leadsync.marketo.models import Lead
from leadsync.models import Visitor
from leadsync.sync.fetch.batching import BatchLimits, new_correlation_id
from leadsync.sync.fetch.writes import chosen_lead
from leadsync.sync.messages import (
    MAX_ACTIVITIES_PER_CALL,
    ActivityOperation,
    SyncBatch,
    SyncRecord,
)

# how long after the run the activities of imported leads first look for them
IMPORT_TIME = timedelta(minutes=10)


class WrittenActivities(Protocol):
    def written(self, chat_ids: Sequence[str]) -> set[str]: ...


@dataclass(frozen=True)
class ActivityRoute:
    """What the fetch needs to write chat activities: the activity map and the ledger of the
    chats Marketo holds."""

    activity_map: ActivityMap
    ledger: WrittenActivities


@dataclass(frozen=True)
class ActivityPlan:
    messages: list[SyncBatch] = field(default_factory=list)
    activities: int = 0
    already_written: int = 0
    oversized: list[ChatActivity] = field(default_factory=list)
    # e-mails whose create must announce its lead id (their activities wait for it)
    pending: frozenset[str] = frozenset()


def plan_activities(
    entries: Sequence[Any],
    visitors: Sequence[Visitor],
    found: Mapping[str, Sequence[Lead]],
    route: ActivityRoute | None,
    *,
    limits: BatchLimits,
    created_at: datetime,
    imported: frozenset[str] = frozenset(),
) -> ActivityPlan:
    """The activity messages of the run's visitors' chats. Those whose lead a bulk import
    creates (`imported`: e-mails) go in messages of their own, due once an import had time
    to run, that look their leads up by e-mail (an import announces no id)."""
    if route is None or not route.activity_map.enabled or not visitors:
        return ActivityPlan()
    facts = _facts_by_chat(entries, route.activity_map.transcript_length)
    wanted = [(v, chat) for v in visitors for chat in v.chat_ids if chat in facts]
    written = route.ledger.written([chat for _, chat in wanted]) if wanted else set()
    activities: list[ChatActivity] = []
    for visitor, chat in wanted:
        if chat in written:
            continue
        # the lead the run's writes go to (found now, else created by the run)
        lead = chosen_lead(list(found.get(visitor.email, [])))
        lead_id = lead.id if lead is not None else None
        activities.append(activity_for(facts[chat], route.activity_map, visitor.email, lead_id))
    api_name = route.activity_map.type.api_name
    later = [a for a in activities if a.lead_id is None and a.email in imported]
    now = [a for a in activities if not (a.lead_id is None and a.email in imported)]
    messages, oversized = pack_activities(now, api_name, limits, created_at)
    waiting, too_large = pack_activities(later, api_name, limits, created_at)
    due = created_at + IMPORT_TIME
    for message in waiting:
        assert message.activities is not None
        op = message.activities.model_copy(update={"by_import": True})
        messages.append(message.model_copy(update={"activities": op, "not_before": due}))
    oversized += too_large
    return ActivityPlan(
        messages=messages,
        activities=len(activities) - len(oversized),
        already_written=len(written),
        oversized=oversized,
        pending=frozenset(a.email for a in now if a.lead_id is None),
    )


def announcing_activities(records: list[SyncRecord], plan: ActivityPlan) -> list[SyncRecord]:
    """The records with the creates the activities wait for set to announce their lead ids."""
    if not plan.pending:
        return records
    return [
        r.model_copy(update={"announce": True})
        if r.action == "create" and r.email in plan.pending and not r.announce
        else r
        for r in records
    ]


def _facts_by_chat(entries: Sequence[Any], transcript_length: int) -> dict[str, ChatFacts]:
    chats, _ = combine_threads(entries)
    out: dict[str, ChatFacts] = {}
    for chat in chats:
        facts = chat_facts(chat, transcript_length=transcript_length)
        if isinstance(facts, ChatFacts):
            out[facts.chat_id] = facts
    return out


def pack_activities(
    activities: Sequence[ChatActivity],
    type_api_name: str,
    limits: BatchLimits,
    created_at: datetime,
    *,
    correlation_id: str | None = None,
) -> tuple[list[SyncBatch], list[ChatActivity]]:
    """Messages of at most 300 (and `limits.max_records`) activities that fit
    `limits.max_body_bytes`; the activities too large for any message apart."""
    messages: list[SyncBatch] = []
    oversized: list[ChatActivity] = []
    chunk: list[ChatActivity] = []
    size = 0
    overhead = 1024  # the message's own fields around its activities

    def close() -> None:
        nonlocal chunk, size
        if chunk:
            op = ActivityOperation(type_api_name=type_api_name, activities=chunk)
            messages.append(
                SyncBatch(
                    correlation_id=correlation_id or new_correlation_id(),
                    created_at=created_at,
                    activities=op,
                )
            )
        chunk, size = [], 0

    for activity in activities:
        one = len(activity.model_dump_json()) + 1
        if one + overhead > limits.max_body_bytes:
            oversized.append(activity)
            continue
        if (
            len(chunk) >= min(limits.max_records, MAX_ACTIVITIES_PER_CALL)
            or size + one + overhead > limits.max_body_bytes
        ):
            close()
        chunk.append(activity)
        size += one
    close()
    return messages, oversized
