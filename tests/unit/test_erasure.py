from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadsync.adapters.erasures import parse_message
from leadsync.erasure.chats import ErasureMarkers, erasures_from_chats
from leadsync.erasure.deletes import plan_deletes
from leadsync.erasure.files import parse_erasure_file
from leadsync.erasure.request import ErasureRequest, ErasureSource, fingerprint
from leadsync.marketo.models import Lead
from tests.support.chats import customer, entry, form, thread

T0 = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def _request(email: str, at: datetime = T0) -> ErasureRequest:
    return ErasureRequest(email=email, source=ErasureSource.FILE, requested_at=at)


# Files -----------------------------------------------------------------------------------


def test_one_email_a_line_with_comments_blanks_duplicates_and_bad_lines() -> None:
    text = (
        "\ufeff# erasures for January\n"
        "Jane.Doe@Example.com\n"
        "\n"
        "   # indented comment\n"
        "mailto:bob@example.org\n"
        "jane.doe@example.com\n"
        "not an address at secret.example\n"
        "carol@example.net\n"
    )
    parsed = parse_erasure_file(text, requested_at=T0, reference="jan.txt")
    assert [r.email for r in parsed.requests] == [
        "jane.doe@example.com",
        "bob@example.org",
        "carol@example.net",
    ]
    assert parsed.requests[0].reference == "jan.txt:2"
    assert parsed.duplicates == 1
    [problem] = parsed.problems
    assert problem.line == 7
    assert "secret.example" not in problem.masked
    assert "address" not in problem.masked
    assert problem.reason == "the address contains spaces"


def test_csv_with_an_email_column_and_references() -> None:
    text = (
        "ticket,Email,name\n"
        "T-1,jane@example.com,Jane\n"
        'T-2,"bob@example.org",Bob\n'
        "T-3\n"
        "T-4,broken@@example.com,X\n"
    )
    parsed = parse_erasure_file(text, requested_at=T0)
    assert [r.email for r in parsed.requests] == ["jane@example.com", "bob@example.org"]
    assert [r.reference for r in parsed.requests] == ["line 2", "line 3"]
    assert [p.line for p in parsed.problems] == [4, 5]
    assert all("broken@@" not in p.masked for p in parsed.problems)


def test_csv_reference_column_wins() -> None:
    parsed = parse_erasure_file("email,reference\njane@example.com,GDPR-42\n", requested_at=T0)
    assert parsed.requests[0].reference == "GDPR-42"


def test_csv_without_email_column_is_one_problem() -> None:
    parsed = parse_erasure_file("mail,name\njane@example.com,Jane\n", requested_at=T0)
    assert parsed.requests == []
    assert [p.line for p in parsed.problems] == [1]


def test_empty_file_is_nothing() -> None:
    assert parse_erasure_file("# only\n\n", requested_at=T0).requests == []


# Chats -----------------------------------------------------------------------------------


def _flagged_customer(value: object, **kwargs: object) -> dict[str, object]:
    user = customer(**kwargs)  # type: ignore[arg-type]
    user["session_fields"] = [{"plan": "pro"}, {"GDPR_Erase": value}]
    return user


MARKERS = ErasureMarkers.of("gdpr_erase", ["erase-me"])


def test_session_field_marks_the_customer() -> None:
    chats = [
        entry("C1", user=_flagged_customer("true", email="jane@example.com", user_id="u1")),
        entry("C2", user=_flagged_customer("no", email="bob@example.com")),
        entry("C3", user=_flagged_customer(True, email="amy@example.com")),
    ]
    found = [
        (r.email, r.reference, r.customer_id)
        for r in erasures_from_chats(chats, MARKERS, requested_at=T0)
    ]
    assert found == [("jane@example.com", "C1", "u1"), ("amy@example.com", "C3", "cust-1")]


def test_tag_marks_every_address_the_customer_gave() -> None:
    tagged = thread(
        "T2",
        events=[form(("email", "Other@Example.org"), ("name", "Jane"))],
        tags=["sales", " Erase-Me "],
    )
    chats = [
        entry("C1", thread_=thread("T1")),
        entry("C1", thread_=tagged),
        entry("C2", user=customer(email="bob@example.com"), thread_=thread(tags=["sales"])),
    ]
    found = erasures_from_chats(chats, MARKERS, requested_at=T0)
    assert sorted(r.email for r in found) == ["jane.doe@example.com", "other@example.org"]
    assert {r.source for r in found} == {ErasureSource.LIVECHAT}


def test_agent_forms_and_hostile_entries_are_ignored() -> None:
    by_agent = thread(
        events=[form(("email", "agent-typed@example.com"), author="alice0@support.example.com")],
        tags=["erase-me"],
    )
    chats: list[object] = [
        None,
        "chat",
        {"id": 5},
        {"id": "C9", "users": "x", "thread": {"tags": "erase-me"}},
        entry("C1", user=customer(email="not-an-address"), thread_=thread(tags=["erase-me"])),
        entry("C2", user=customer(email="jane@example.com"), thread_=by_agent),
    ]
    found = erasures_from_chats(chats, MARKERS, requested_at=T0)
    assert [r.email for r in found] == ["jane@example.com"]


def test_no_markers_no_requests() -> None:
    chats = [entry(thread_=thread(tags=["erase-me"]))]
    assert erasures_from_chats(chats, ErasureMarkers(), requested_at=T0) == []


# Queue bodies ------------------------------------------------------------------------------


def test_queue_bodies_plain_and_json() -> None:
    plain = parse_message(" Jane@Example.com \n", "m1", T0)
    assert (plain.email, plain.reference, plain.requested_at) == ("jane@example.com", "m1", T0)
    body = json.dumps(
        {"email": "bob@example.org", "reference": "GDPR-7", "requested_at": "2026-01-01T00:00:00Z"}
    )
    loaded = parse_message(body, "m2", T0)
    assert loaded.reference == "GDPR-7"
    assert loaded.requested_at == datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "body",
    ["", "{not json", "[1]", '{"email": 5}', '{"email": "secret@@example.com"}', "secret at x"],
)
def test_bad_queue_bodies_say_why_without_the_address(body: str) -> None:
    with pytest.raises(ValueError, match=r"^(?!.*secret)"):
        parse_message(body, "m1", T0)


# Planning ----------------------------------------------------------------------------------


def test_plan_deletes_all_leads_of_found_emails_and_counts_the_rest() -> None:
    found = {
        "jane@example.com": [Lead(id=7), Lead(id=3)],
        "bob@example.org": [],
    }
    requests = [
        _request("jane@example.com"),
        _request("bob@example.org"),
        _request("carol@example.net"),
        _request("JANE@example.com", T0 - timedelta(days=1)),
    ]
    plan = plan_deletes(requests, found)
    assert plan.calls == [[3, 7]]
    assert plan.not_found == 2
    summary = json.dumps(plan.summary())
    for email in ("jane@example.com", "bob@example.org", "carol@example.net"):
        assert email not in summary
        assert fingerprint(email) in summary
    assert plan.summary()["found"] == 1
    assert plan.erasures[0].lead_ids == (3, 7)


def test_nothing_found_costs_no_call() -> None:
    plan = plan_deletes([_request("jane@example.com")], {})
    assert plan.calls == []
    assert plan.not_found == 1


def test_max_per_call_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_per_call"):
        plan_deletes([], {}, max_per_call=0)


_emails = st.integers(min_value=0, max_value=400).map(lambda n: f"user{n}@example.com")
_found = st.dictionaries(
    _emails,
    st.lists(st.integers(min_value=1, max_value=5000), max_size=4),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(
    requested=st.lists(_emails, max_size=80),
    found_ids=_found,
    limit=st.integers(min_value=1, max_value=300),
)
def test_every_found_id_planned_once_and_calls_within_limit(
    requested: list[str], found_ids: dict[str, list[int]], limit: int
) -> None:
    found = {email: [Lead(id=i) for i in ids] for email, ids in found_ids.items()}
    plan = plan_deletes([_request(email) for email in requested], found, max_per_call=limit)
    planned = plan.lead_ids
    assert len(planned) == len(set(planned))
    expected = {i for email in set(requested) for i in found_ids.get(email, [])}
    assert set(planned) == expected
    assert all(0 < len(call) <= limit for call in plan.calls)
    assert plan.not_found == sum(not found_ids.get(email) for email in set(requested))
    assert len(plan.calls) == -(-len(expected) // limit)


def test_plan_deletes_with_large_volume_uses_300_per_call() -> None:
    found = {f"u{n}@example.com": [Lead(id=n + 1)] for n in range(700)}
    plan = plan_deletes([_request(email) for email in found], found)
    assert [len(call) for call in plan.calls] == [300, 300, 100]
