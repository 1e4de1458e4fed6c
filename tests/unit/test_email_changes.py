from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from leadsync.marketo.models import Lead
from leadsync.sync.fetch.email_changes import (
    EmailChange,
    EmailChangeOutcome,
    detect_changes,
    found_after,
    latest_identities,
    lookup_emails,
    renames,
    resolve_email_changes,
)

OLD, NEW = "jane@old.example.com", "jane@new.example.com"


def _lead(lead_id: int, email: str) -> Lead:
    return Lead(id=lead_id, fields={"email": email})


def test_detect_changes_latest_address_wins_and_unknown_customers_are_no_change() -> None:
    seen = [
        ("Jane@Old.example.com", "c1"),
        (NEW, "c1"),
        ("bob@example.com", "c2"),
        ("amy@example.com", "c3"),
        ("not an address", "c2"),
        ("x@example.com", ""),
    ]
    remembered = {"c1": OLD, "c2": "BOB@example.com", "c9": "z@example.com"}
    assert detect_changes(seen, remembered) == [EmailChange("c1", OLD, NEW)]
    assert latest_identities(seen) == {
        "c1": NEW,
        "c2": "bob@example.com",
        "c3": "amy@example.com",
    }


def test_old_addresses_are_looked_up_with_the_new_ones() -> None:
    change = EmailChange("c1", OLD, NEW)
    assert lookup_emails([NEW, "bob@example.com"], [change]) == [NEW, "bob@example.com", OLD]


def test_old_lead_only_is_renamed_never_created() -> None:
    change = EmailChange("c1", OLD, NEW)
    found = {OLD: [_lead(9, OLD), _lead(4, OLD)], NEW: []}
    [decision] = resolve_email_changes([change], found)
    assert (decision.outcome, decision.lead_id, decision.possible_duplicates) == (
        EmailChangeOutcome.RENAME,
        4,
        (9,),
    )
    assert renames([decision]) == {4: NEW}
    after = found_after([decision], found)
    assert [lead.id for lead in after[NEW]] == [4]
    assert [lead.id for lead in after[OLD]] == [9]


def test_both_have_leads_update_new_and_report_old() -> None:
    found = {OLD: [_lead(4, OLD)], NEW: [_lead(8, NEW)]}
    [decision] = resolve_email_changes([EmailChange("c1", OLD, NEW)], found)
    assert (decision.outcome, decision.lead_id, decision.possible_duplicates) == (
        EmailChangeOutcome.UPDATE_KEEP_OLD,
        8,
        (4,),
    )
    assert renames([decision]) == {}


def test_new_only_is_an_update_and_neither_is_a_create() -> None:
    changes = [EmailChange("c1", OLD, NEW), EmailChange("c2", "a@example.com", "b@example.com")]
    decisions = resolve_email_changes(changes, {NEW: [_lead(8, NEW)]})
    outcomes = {d.email: (d.outcome, d.lead_id) for d in decisions}
    assert outcomes == {
        NEW: (EmailChangeOutcome.UPDATE, 8),
        "b@example.com": (EmailChangeOutcome.CREATE, None),
    }


def test_an_old_address_still_in_use_keeps_its_lead() -> None:
    found = {OLD: [_lead(4, OLD)]}
    [decision] = resolve_email_changes([EmailChange("c1", OLD, NEW)], found, in_use=[OLD])
    assert decision.outcome is EmailChangeOutcome.CREATE


def test_two_customers_moving_to_one_address_make_one_rename() -> None:
    changes = [EmailChange("c1", "a@example.com", NEW), EmailChange("c2", "b@example.com", NEW)]
    found = {"a@example.com": [_lead(5, "a")], "b@example.com": [_lead(3, "b")]}
    [decision] = resolve_email_changes(changes, found)
    assert (decision.outcome, decision.lead_id, decision.possible_duplicates) == (
        EmailChangeOutcome.RENAME,
        3,
        (5,),
    )


def test_one_old_lead_is_moved_to_one_new_address_only() -> None:
    changes = [EmailChange("c1", OLD, "x@example.com"), EmailChange("c2", OLD, "y@example.com")]
    decisions = resolve_email_changes(changes, {OLD: [_lead(4, OLD)]})
    assert [(d.email, d.outcome) for d in decisions] == [
        ("x@example.com", EmailChangeOutcome.RENAME),
        ("y@example.com", EmailChangeOutcome.CREATE),
    ]


def test_a_chain_never_renames_an_address_this_run_writes() -> None:
    # c1 moved a → b while c2 moved b → c: b is written this run, its lead stays b's
    changes = [EmailChange("c1", "a@x.com", "b@x.com"), EmailChange("c2", "b@x.com", "c@x.com")]
    found = {"a@x.com": [_lead(1, "a")], "b@x.com": [_lead(2, "b")]}
    decisions = {d.email: d for d in resolve_email_changes(changes, found)}
    assert decisions["b@x.com"].outcome is EmailChangeOutcome.UPDATE_KEEP_OLD
    assert decisions["b@x.com"].lead_id == 2
    assert decisions["c@x.com"].outcome is EmailChangeOutcome.CREATE


_addresses = st.sampled_from([f"p{n}@example.com" for n in range(8)])
_changes = st.lists(
    st.builds(
        EmailChange, st.sampled_from([f"c{n}" for n in range(6)]), _addresses, _addresses
    ).filter(lambda change: change.old != change.new),
    max_size=10,
)
_found = st.dictionaries(_addresses, st.lists(st.integers(1, 30), max_size=3), max_size=8)


@settings(max_examples=300, deadline=None)
@given(changes=_changes, found_ids=_found, in_use=st.lists(_addresses, max_size=3))
def test_decisions_never_double_a_lead(
    changes: list[EmailChange], found_ids: dict[str, list[int]], in_use: list[str]
) -> None:
    # a lead id belongs to one address in Marketo
    owner: dict[int, str] = {}
    for email, ids in found_ids.items():
        for lead_id in ids:
            owner.setdefault(lead_id, email)
    found = {
        email: [_lead(i, email) for i in ids if owner[i] == email]
        for email, ids in found_ids.items()
    }
    decisions = resolve_email_changes(changes, found, in_use=in_use)
    busy = {*in_use, *(change.new for change in changes)}

    assert sorted(d.email for d in decisions) == sorted({c.new for c in changes})
    touched = [d.lead_id for d in decisions if d.lead_id is not None]
    touched += [i for d in decisions for i in d.possible_duplicates]
    assert len(touched) == len(set(touched)), "a lead is planned twice"
    for decision in decisions:
        new_ids = {lead.id for lead in found.get(decision.email, [])}
        if decision.outcome is EmailChangeOutcome.CREATE:
            assert not new_ids
            # a create only when no old address it could move has a lead left
            for change in decision.changes:
                if change.old not in busy and found.get(change.old):
                    assert all(lead.id in touched for lead in found[change.old])
        elif decision.outcome is EmailChangeOutcome.RENAME:
            assert not new_ids
            assert decision.lead_id is not None
            assert owner[decision.lead_id] in {c.old for c in decision.changes}
            assert owner[decision.lead_id] not in busy
        else:
            assert decision.lead_id in new_ids
    # after the renames, no address holds a lead it did not hold plus one moved in
    after = found_after(decisions, found)
    for decision in decisions:
        if decision.outcome is EmailChangeOutcome.RENAME:
            assert [lead.id for lead in after[decision.email]] == [decision.lead_id]
