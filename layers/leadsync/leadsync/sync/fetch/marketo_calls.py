"""Which Marketo calls a sync needs, and the fewest it could possibly need.

Static list membership is changed one list per call, at most 300 lead ids a call (add is
`POST /rest/v1/lists/{listId}/leads.json`, remove is `DELETE` on the same path). Only changes
cost calls: a lead is never added to a list it is known to be in, nor removed from one it is
known not to be in. For each list, removals go before additions, so a list never holds more
members on the way than at either end.

Leads are keyed by their Marketo id, or, for leads the sync has yet to create, by a
placeholder (any string) that `ListCall.resolved` turns into the id the create returned.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

from leadsync.mapping.sanitize import normalize_email

MAX_IDS = 300  # lead ids (or records, or lookup values) in one Marketo call

LeadKey = int | str
ListAction = Literal["remove", "add"]


def _order(key: LeadKey) -> tuple[int, int, str]:
    """Known ids first, by number, then placeholders: the same input, the same calls."""
    if isinstance(key, str):
        return (1, 0, key)
    return (0, key, "")


@dataclass(frozen=True)
class ListChange:
    """What must change in one list: the leads to take out of it and to put in it."""

    list_id: int
    removes: tuple[LeadKey, ...] = ()
    adds: tuple[LeadKey, ...] = ()


@dataclass(frozen=True)
class ListCall:
    """One list-membership call: one list, one direction, 1 to `max_ids` leads."""

    list_id: int
    action: ListAction
    lead_keys: tuple[LeadKey, ...]

    def resolved(self, created: Mapping[str, int]) -> ListCall | None:
        """The call with placeholders replaced by the ids their creates returned.

        A placeholder whose create did not happen is left out; a call left empty is None.
        """
        keys: list[LeadKey] = []
        for key in self.lead_keys:
            if isinstance(key, int):
                keys.append(key)
            elif key in created:
                keys.append(created[key])
        return ListCall(self.list_id, self.action, tuple(keys)) if keys else None


def list_changes(
    known: Mapping[LeadKey, frozenset[int]],
    desired: Mapping[LeadKey, frozenset[int]],
    *,
    managed: frozenset[int] | None = None,
) -> list[ListChange]:
    """Per list (by id), the leads whose membership must change; unchanged lists left out.

    Only the leads in `desired` are decided: a lead missing from `known` is in no list (a
    lead to create, or one never seen in a list); a lead only in `known` is left as it is.
    With `managed`, lists outside it are never touched, whatever `known` says.
    """
    removes: dict[int, set[LeadKey]] = {}
    adds: dict[int, set[LeadKey]] = {}
    for key, wanted in desired.items():
        before = known.get(key, frozenset())
        if managed is not None:
            wanted, before = wanted & managed, before & managed
        for list_id in before - wanted:
            removes.setdefault(list_id, set()).add(key)
        for list_id in wanted - before:
            adds.setdefault(list_id, set()).add(key)
    return [
        ListChange(
            list_id,
            removes=tuple(sorted(removes.get(list_id, ()), key=_order)),
            adds=tuple(sorted(adds.get(list_id, ()), key=_order)),
        )
        for list_id in sorted(removes.keys() | adds.keys())
    ]


def list_calls(changes: Iterable[ListChange], *, max_ids: int = MAX_IDS) -> list[ListCall]:
    """The calls for `changes`: list by list, its removals then its additions, in chunks."""
    if max_ids < 1:
        raise ValueError("max_ids must be at least 1")
    calls: list[ListCall] = []
    for change in changes:
        steps: tuple[tuple[ListAction, tuple[LeadKey, ...]], ...] = (
            ("remove", change.removes),
            ("add", change.adds),
        )
        for action, keys in steps:
            calls.extend(
                ListCall(change.list_id, action, chunk) for chunk in _chunks(keys, max_ids)
            )
    return calls


def plan_list_calls(
    known: Mapping[LeadKey, frozenset[int]],
    desired: Mapping[LeadKey, frozenset[int]],
    *,
    max_ids: int = MAX_IDS,
    managed: frozenset[int] | None = None,
) -> list[ListCall]:
    """`list_calls(list_changes(known, desired))`: the list calls of one sync."""
    return list_calls(list_changes(known, desired, managed=managed), max_ids=max_ids)


def _chunks(keys: tuple[LeadKey, ...], size: int) -> Iterator[tuple[LeadKey, ...]]:
    for start in range(0, len(keys), size):
        yield keys[start : start + size]


@dataclass(frozen=True)
class CallPlan:
    """Marketo calls by kind; `total` is what the sync costs of the daily quota."""

    lookup: int = 0
    create: int = 0  # createOnly
    update: int = 0  # updateOnly by id
    write: int = 0  # createOrUpdate by e-mail: creates and updates together
    delete: int = 0
    list_add: int = 0
    list_remove: int = 0
    activities: int = 0  # chat activities added: at most 300 a call

    @property
    def lists(self) -> int:
        return self.list_add + self.list_remove

    @property
    def total(self) -> int:
        writes = self.create + self.update + self.write + self.delete + self.activities
        return self.lookup + writes + self.lists

    @classmethod
    def of_list_calls(cls, calls: Iterable[ListCall]) -> CallPlan:
        counted = [call.action for call in calls]
        return cls(list_add=counted.count("add"), list_remove=counted.count("remove"))


def lookup_values(
    emails: Iterable[str],
    old_emails: Iterable[str] = (),
    erasure_emails: Iterable[str] = (),
) -> frozenset[str]:
    """What a sync looks up in Marketo: every distinct address, normalized.

    The changed users' e-mails, the old e-mails of users whose e-mail changed (to find the
    lead they were), and the e-mails of people to erase: all looked up together, by e-mail,
    `MAX_IDS` per call. An address that is not one is not looked up.
    """
    found = (
        normalize_email(email) for group in (emails, old_emails, erasure_emails) for email in group
    )
    return frozenset(email for email in found if email is not None)


@dataclass(frozen=True)
class Workload:
    """One sync's work: what must be looked up, written, and changed in each list.

    `lookups` is the number of distinct lookup values (see `lookup_values`); `list_adds`
    and `list_removes` are the numbers of leads to add to and remove from each list.
    """

    lookups: int = 0
    creates: int = 0
    updates: int = 0
    deletes: int = 0
    list_adds: Mapping[int, int] = field(default_factory=dict)
    list_removes: Mapping[int, int] = field(default_factory=dict)
    activities: int = 0  # chats written as activities (any leads: 300 a call)

    @classmethod
    def of_list_changes(
        cls,
        changes: Iterable[ListChange],
        *,
        lookups: int = 0,
        creates: int = 0,
        updates: int = 0,
        deletes: int = 0,
    ) -> Workload:
        changes = list(changes)
        return cls(
            lookups=lookups,
            creates=creates,
            updates=updates,
            deletes=deletes,
            list_adds={c.list_id: len(c.adds) for c in changes if c.adds},
            list_removes={c.list_id: len(c.removes) for c in changes if c.removes},
        )


def lower_bound(workload: Workload, *, max_ids: int = MAX_IDS) -> CallPlan:
    """The fewest Marketo calls that can do `workload`, by kind.

    For a sync of N changed users with C creates, U updates, D deletes, L distinct lookup
    values and, for each list l, adds_l leads to add and removes_l to remove:

        minimum = ceil(L/300) + ceil((C+U)/300) + ceil(D/300)
                  + Σ_l (ceil(adds_l/300) + ceil(removes_l/300)) + ceil(A/300)

    L counts the users' e-mails, the old e-mails of e-mail changes and the erasure e-mails
    together (a lookup takes up to 300 values of one field, whichever kind they are). Every
    call carries at most 300 records or ids; creates and updates can share one
    createOrUpdate call by e-mail; a delete is a call of its own, and a list call is one
    list in one direction, and an activities call adds up to 300 chat activities (A) on any
    leads: no call can do more, so none can be saved. (An e-mail change
    must go by id, and so must a lead whose e-mail is held by several leads: a workload
    with those needs more; this bound leaves them out.) Grouparoo's example, 300 users and
    5 lists each gaining and losing members, comes to 1 + 1 + 1 + 5 + 5 = 13 this way; its
    own pipeline, with a create call and an update call, to 14 (`separate_writes`).
    """
    if max_ids < 1:
        raise ValueError("max_ids must be at least 1")

    def calls(count: int) -> int:
        if count < 0:
            raise ValueError("a workload counts nothing below zero")
        return math.ceil(count / max_ids)

    return CallPlan(
        lookup=calls(workload.lookups),
        write=calls(workload.creates + workload.updates),
        delete=calls(workload.deletes),
        list_add=sum(calls(count) for count in workload.list_adds.values()),
        list_remove=sum(calls(count) for count in workload.list_removes.values()),
        activities=calls(workload.activities),
    )


def separate_writes(workload: Workload, *, max_ids: int = MAX_IDS) -> CallPlan:
    """The calls of a pipeline that creates and updates in calls of their own, as Grouparoo
    does (updateOnly by id for the leads found, createOrUpdate for the rest): the lower
    bound with its one write call split in two."""
    bound = lower_bound(workload, max_ids=max_ids)
    return CallPlan(
        lookup=bound.lookup,
        create=math.ceil(workload.creates / max_ids),
        update=math.ceil(workload.updates / max_ids),
        delete=bound.delete,
        list_add=bound.list_add,
        list_remove=bound.list_remove,
    )
