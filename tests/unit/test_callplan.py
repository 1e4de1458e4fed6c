"""The list-call planner and the lower bound of a sync's Marketo calls."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadsync.sync.fetch.marketo_calls import (
    MAX_IDS,
    CallPlan,
    LeadKey,
    ListCall,
    ListChange,
    Workload,
    list_calls,
    list_changes,
    lookup_values,
    lower_bound,
    plan_list_calls,
    separate_writes,
)

Memberships = dict[LeadKey, frozenset[int]]

list_ids = st.integers(min_value=1, max_value=8)
memberships = st.frozensets(list_ids, max_size=5)
lead_keys = st.one_of(
    st.integers(min_value=1, max_value=10**9),
    st.text(alphabet="abcdef0123456789", min_size=1, max_size=6).map(lambda s: f"new:{s}"),
)


@st.composite
def syncs(draw: st.DrawFn) -> tuple[Memberships, Memberships, int]:
    """Known and desired memberships over overlapping leads, and a call size."""
    keys = draw(st.lists(lead_keys, unique=True, max_size=60))
    desired: Memberships = {}
    known: Memberships = {}
    for key in keys:
        role = draw(st.sampled_from(("both", "both", "desired_only", "known_only")))
        if role != "known_only":
            desired[key] = draw(memberships)
        if role != "desired_only" and not isinstance(key, str):
            known[key] = draw(memberships)
    max_ids = draw(st.sampled_from((1, 2, 3, 5, 7, MAX_IDS)))
    return known, desired, max_ids


def _required(known: Memberships, desired: Memberships) -> Counter[tuple[int, str, LeadKey]]:
    """Every membership change, straight from the definition."""
    required: Counter[tuple[int, str, LeadKey]] = Counter()
    for key, wanted in desired.items():
        before = known.get(key, frozenset())
        for list_id in wanted - before:
            required[(list_id, "add", key)] += 1
        for list_id in before - wanted:
            required[(list_id, "remove", key)] += 1
    return required


def _planned(calls: list[ListCall]) -> Counter[tuple[int, str, LeadKey]]:
    return Counter((c.list_id, c.action, key) for c in calls for key in c.lead_keys)


@settings(max_examples=300, deadline=None)
@given(syncs())
def test_every_change_is_planned_exactly_once_and_nothing_else(
    sync: tuple[Memberships, Memberships, int],
) -> None:
    known, desired, max_ids = sync
    calls = plan_list_calls(known, desired, max_ids=max_ids)
    planned = _planned(calls)
    required = _required(known, desired)
    assert planned == required  # each required once; none twice; no non-change
    assert all(count == 1 for count in planned.values())
    for list_id, action, key in planned:
        before = known.get(key, frozenset())
        if action == "add":
            assert list_id not in before  # never added to a list it is known to be in
        else:
            assert list_id in before  # never removed from a list it is not in
            assert list_id not in desired[key]


@settings(max_examples=300, deadline=None)
@given(syncs())
def test_every_call_is_within_its_limits_and_removals_come_first(
    sync: tuple[Memberships, Memberships, int],
) -> None:
    known, desired, max_ids = sync
    calls = plan_list_calls(known, desired, max_ids=max_ids)
    for call in calls:
        assert 1 <= len(call.lead_keys) <= max_ids
        assert len(set(call.lead_keys)) == len(call.lead_keys)
        assert call.action in ("add", "remove")
    for list_id in {call.list_id for call in calls}:
        actions = [call.action for call in calls if call.list_id == list_id]
        assert actions == sorted(actions, key=lambda action: action == "add")
    # one list's calls are together, lists in id order
    order = [call.list_id for call in calls]
    assert order == sorted(order)


@settings(max_examples=300, deadline=None)
@given(syncs())
def test_the_plan_costs_exactly_the_lower_bound_of_its_lists(
    sync: tuple[Memberships, Memberships, int],
) -> None:
    known, desired, max_ids = sync
    changes = list_changes(known, desired)
    calls = list_calls(changes, max_ids=max_ids)
    plan = CallPlan.of_list_calls(calls)
    bound = lower_bound(Workload.of_list_changes(changes), max_ids=max_ids)
    assert (plan.list_add, plan.list_remove) == (bound.list_add, bound.list_remove)
    assert plan.total == bound.total == bound.lists
    # and the bound itself, from the changes counted independently
    required = _required(known, desired)
    per_list = Counter((list_id, action) for list_id, action, _ in required)
    assert bound.lists == sum(math.ceil(n / max_ids) for n in per_list.values())


@settings(max_examples=200, deadline=None)
@given(syncs(), st.randoms(use_true_random=False))
def test_the_plan_does_not_depend_on_the_order_leads_arrive_in(
    sync: tuple[Memberships, Memberships, int], rnd: random.Random
) -> None:
    known, desired, max_ids = sync

    def shuffled(memberships: Memberships) -> Memberships:
        items = list(memberships.items())
        rnd.shuffle(items)
        return dict(items)

    first = plan_list_calls(known, desired, max_ids=max_ids)
    again = plan_list_calls(shuffled(known), shuffled(desired), max_ids=max_ids)
    assert first == again


@settings(max_examples=200, deadline=None)
@given(syncs(), st.frozensets(list_ids, max_size=8))
def test_lists_outside_the_managed_ones_are_never_touched(
    sync: tuple[Memberships, Memberships, int], managed: frozenset[int]
) -> None:
    known, desired, max_ids = sync
    calls = plan_list_calls(known, desired, max_ids=max_ids, managed=managed)
    assert {call.list_id for call in calls} <= managed
    narrowed_known = {key: lists & managed for key, lists in known.items()}
    narrowed_desired = {key: lists & managed for key, lists in desired.items()}
    assert _planned(calls) == _required(narrowed_known, narrowed_desired)


@settings(max_examples=200, deadline=None)
@given(syncs(), st.data())
def test_placeholders_resolve_to_the_created_ids(
    sync: tuple[Memberships, Memberships, int], data: st.DataObject
) -> None:
    known, desired, max_ids = sync
    calls = plan_list_calls(known, desired, max_ids=max_ids)
    placeholders = sorted({key for key in desired if isinstance(key, str)})
    created_ok = data.draw(
        st.lists(st.sampled_from(placeholders), unique=True) if placeholders else st.just([])
    )
    created = {key: 2 * 10**9 + index for index, key in enumerate(created_ok)}
    resolved = [r for r in (call.resolved(created) for call in calls) if r is not None]
    for call in resolved:
        assert all(isinstance(key, int) for key in call.lead_keys)
        assert 1 <= len(call.lead_keys) <= max_ids
    expected = Counter(
        (list_id, action, created[key] if isinstance(key, str) else key)
        for list_id, action, key in _required(known, desired)
        if not isinstance(key, str) or key in created
    )
    assert _planned(resolved) == expected


def test_a_full_list_is_cut_into_calls_of_300() -> None:
    desired: Memberships = {lead: frozenset({7}) for lead in range(1, 702)}
    known: Memberships = {lead: frozenset({7, 8}) for lead in range(1, 302)}
    calls = plan_list_calls(known, desired)
    assert [(c.list_id, c.action, len(c.lead_keys)) for c in calls] == [
        (7, "add", 300),
        (7, "add", 100),
        (8, "remove", 300),
        (8, "remove", 1),
    ]
    assert calls[0].lead_keys[0] == 302  # leads in id order
    assert CallPlan.of_list_calls(calls) == CallPlan(list_add=2, list_remove=2)


def test_known_ids_come_before_placeholders_in_a_call() -> None:
    calls = plan_list_calls({}, {"new:b": frozenset({1}), 20: frozenset({1}), 3: frozenset({1})})
    assert calls == [ListCall(1, "add", (3, 20, "new:b"))]


def test_nothing_to_change_costs_nothing() -> None:
    same: Memberships = {1: frozenset({1, 2}), 2: frozenset()}
    assert plan_list_calls(same, same) == []
    assert plan_list_calls({5: frozenset({1})}, {}) == []  # a lead not in this sync stays
    assert lower_bound(Workload()) == CallPlan()


def test_a_call_size_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_ids"):
        list_calls([ListChange(1, adds=(1,))], max_ids=0)
    with pytest.raises(ValueError, match="max_ids"):
        lower_bound(Workload(), max_ids=0)
    with pytest.raises(ValueError, match="below zero"):
        lower_bound(Workload(creates=-1))


# ---------------------------------------------------------------------------------------
# the lower bound of a whole sync


def _grouparoo(
    users: int, *, creates: int, updates: int, deletes: int, adds: int, removes: int
) -> Workload:
    """Grouparoo's published workload: `users` looked up, and on each of 5 lists `adds`
    members added and `removes` removed."""
    lists = range(1, 6)
    return Workload(
        lookups=users,
        creates=creates,
        updates=updates,
        deletes=deletes,
        list_adds=dict.fromkeys(lists, adds),
        list_removes=dict.fromkeys(lists, removes),
    )


def test_grouparoos_300_users_5_lists_take_14_calls_its_way_and_13_at_least() -> None:
    workload = _grouparoo(300, creates=100, updates=150, deletes=50, adds=120, removes=30)
    theirs = separate_writes(workload)
    assert theirs == CallPlan(lookup=1, create=1, update=1, delete=1, list_add=5, list_remove=5)
    assert theirs.total == 14
    bound = lower_bound(workload)
    assert bound == CallPlan(lookup=1, write=1, delete=1, list_add=5, list_remove=5)
    assert bound.total == 13


def test_grouparoos_1000_users_take_19_calls_its_way() -> None:
    workload = _grouparoo(1000, creates=333, updates=501, deletes=166, adds=200, removes=100)
    assert separate_writes(workload).total == 4 + 2 + 2 + 1 + 10 == 19
    assert lower_bound(workload).total == 4 + 3 + 1 + 10 == 18


def test_each_kind_is_rounded_up_on_its_own() -> None:
    bound = lower_bound(
        Workload(
            lookups=601,
            creates=300,
            updates=301,
            deletes=0,
            list_adds={1: 1, 2: 600, 3: 0},
            list_removes={1: 301},
        )
    )
    assert bound == CallPlan(lookup=3, write=3, list_add=3, list_remove=2)
    assert bound.total == 11


def test_lookups_count_every_distinct_address_once() -> None:
    values = lookup_values(
        ["Jane@Example.com", "bob@example.com"],
        old_emails=["jane.old@example.com", "jane@example.com"],
        erasure_emails=["gone@example.com", "not an address"],
    )
    assert values == {
        "jane@example.com",
        "bob@example.com",
        "jane.old@example.com",
        "gone@example.com",
    }
    assert lower_bound(Workload(lookups=len(values))).lookup == 1
    many = lookup_values(
        [f"u{i}@example.com" for i in range(250)], [f"o{i}@example.com" for i in range(51)]
    )
    assert lower_bound(Workload(lookups=len(many))).lookup == 2


def test_a_workload_counts_the_changes_the_planner_found() -> None:
    changes = list_changes(
        {1: frozenset({1}), 2: frozenset({1, 2})},
        {1: frozenset({2}), 2: frozenset(), "new:x": frozenset({2})},
    )
    workload = Workload.of_list_changes(changes, lookups=3, creates=1, updates=2)
    assert workload.list_adds == {2: 2}
    assert workload.list_removes == {1: 2, 2: 1}
    assert lower_bound(workload) == CallPlan(lookup=1, write=1, list_add=1, list_remove=2)
