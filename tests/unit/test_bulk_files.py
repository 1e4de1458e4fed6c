"""The bulk path's pure parts: CSV files, row matching, backoff, the REST-or-bulk choice."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest

from leadsync.bulk.choice import SyncPath, choose_path, polls_for, rest_write_calls
from leadsync.bulk.csvfile import ineligible, pack_files, render, row_values
from leadsync.bulk.jobs import BulkJob, job_id_of
from leadsync.bulk.matching import ResultRow, match_rows, norm, parse_result_file
from leadsync.bulk.schedule import BulkSettings, busy_delay, poll_delay
from leadsync.sync.messages import FieldValue, SyncRecord


def create(n: int, **fields: FieldValue) -> SyncRecord:
    values: dict[str, FieldValue] = {"email": f"v{n}@example.com", "firstName": f"Name {n}"}
    values.update(fields)
    return SyncRecord(action="create", email=f"v{n}@example.com", fields=values, chat_ids=[f"C{n}"])


def update(n: int, *, by_email: bool = True, **fields: FieldValue) -> SyncRecord:
    return SyncRecord(
        action="update",
        email=f"v{n}@example.com",
        lead_id=n + 1,
        fields=fields or {"city": "Paris"},
        by_email=by_email,
        chat_ids=[f"C{n}"],
    )


def parsed(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode())))


# -- the file ---------------------------------------------------------------------------------
def test_header_is_the_union_and_absent_fields_are_blank() -> None:
    records = [create(1, country="Poland"), update(2, city="Kraków"), create(3)]
    table = parsed(render(records))
    assert table[0] == ["email", "city", "country", "firstName"]
    assert table[1] == ["v1@example.com", "", "Poland", "Name 1"]
    # the update carries only its changed field: the others stay blank, Marketo keeps them
    assert table[2] == ["v2@example.com", "Kraków", "", ""]
    assert table[3] == ["v3@example.com", "", "", "Name 3"]


def test_values_are_quoted_and_typed_as_marketo_reads_them() -> None:
    record = create(1, firstName='Ann, "the" 1st\nline', livechatChatCount=3, flag=True)
    table = parsed(render([record]))
    row = dict(zip(table[0], table[1], strict=True))
    assert row["firstName"] == 'Ann, "the" 1st\nline'
    assert (row["livechatChatCount"], row["flag"]) == ("3", "true")


def test_records_a_file_cannot_carry() -> None:
    assert ineligible(create(1)) is None
    assert ineligible(update(1)) is None
    assert ineligible(update(1, by_email=False)) == "update_by_id"
    assert ineligible(create(1, firstName="")) == "empty_value"
    announced = create(1).model_copy(update={"announce": True})
    assert ineligible(announced) == "announce"
    moved = SyncRecord(
        action="update", email="old@example.com", lead_id=4, fields={"email": "new@example.com"}
    )
    assert ineligible(moved) == "update_by_id"  # an e-mail change is never written by e-mail
    other = SyncRecord(action="create", email="a@example.com", fields={"email": "b@example.com"})
    assert ineligible(other) == "email_change"


@pytest.mark.parametrize("limit", [300, 1_000, 5_000])
def test_files_stay_under_the_limit_and_are_filled(limit: int) -> None:
    records = [create(n, city="x" * (n % 37), country="y" * (n % 5)) for n in range(400)]
    plan = pack_files(records, limit)
    assert not plan.oversized
    assert [r for f in plan.files for r in f] == records  # order kept, nothing lost
    for n, chunk in enumerate(plan.files):
        size = len(render(chunk))
        assert size <= limit
        if n < len(plan.files) - 1:  # full: the next record would not have fitted
            assert len(render([*chunk, plan.files[n + 1][0]])) > limit


def test_one_row_per_email_and_file_and_oversized_set_apart() -> None:
    twice = [create(1), create(2), create(1, city="Rome")]
    plan = pack_files(twice, 10_000)
    assert [[r.email for r in f] for f in plan.files] == [
        ["v1@example.com", "v2@example.com"],
        ["v1@example.com"],
    ]
    huge = create(3, address="z" * 2_000)
    plan = pack_files([create(1), huge], 1_000)
    assert plan.oversized == [huge]
    assert plan.files == [[create(1)]]


# -- matching -----------------------------------------------------------------------------------
def test_result_file_is_parsed_with_its_reason_column() -> None:
    content = b"email,firstName,Import Failure Reason\nA@x.com,Ann,Invalid email\n"
    rows = parse_result_file(content)
    assert rows == [ResultRow({"email": "A@x.com", "firstName": "Ann"}, "Invalid email")]


def test_rows_match_back_despite_normalisation() -> None:
    records = [
        create(1, livechatChatCount=3),
        create(2, livechatLastChat="2026-01-02T03:04:05Z"),
        create(3),
    ]
    sources = [row_values(r) for r in records]
    rows = [
        # case and spacing changed, the number written another way
        ResultRow(
            {"Email": " V1@Example.COM ", "firstName": "name  1", "livechatChatCount": "3.0"}, "bad"
        ),
        # the time in another offset
        ResultRow(
            {"email": "v2@example.com", "livechatLastChat": "2026-01-02T04:04:05+01:00"}, "bad"
        ),
    ]
    assert [m.index for m in match_rows(sources, rows)] == [0, 1]
    assert norm(" Ab  C ") == "ab c"


def test_duplicates_each_take_their_own_record_and_strangers_stay_unmatched() -> None:
    same = [{"email": "", "firstName": "Ann"}, {"email": "", "firstName": "Ann"}]
    rows = [ResultRow({"email": "", "firstName": "Ann"}, "no email")] * 2
    assert sorted(m.index for m in match_rows(same, rows)) == [0, 1]  # type: ignore[type-var]
    stranger = ResultRow({"email": "who@else.com", "firstName": "Bob"}, "bad")
    assert match_rows(same, [stranger])[0].index is None


def test_a_mangled_email_matches_by_the_rest_of_the_row() -> None:
    records = [create(1, city="Lyon", country="France"), create(2, city="Oslo", country="Norway")]
    sources = [row_values(r) for r in records]
    row = ResultRow(
        {"email": "v2@examp1e.com", "firstName": "Name 2", "city": "Oslo", "country": "Norway"},
        "Invalid email",
    )
    assert match_rows(sources, [row])[0].index == 1


# -- schedule -----------------------------------------------------------------------------------
def test_poll_backoff_is_capped_and_slower_when_stuck() -> None:
    settings = BulkSettings(poll_delays=(5, 10, 20, 30), stuck_poll_seconds=300)
    assert [poll_delay(n, settings) for n in range(6)] == [5, 10, 20, 30, 30, 30]
    assert poll_delay(9, settings, stuck=True) == 300
    assert busy_delay(0, settings) == 60
    assert busy_delay(10, settings) == 900  # SQS's longest delay


def test_a_job_is_stuck_past_the_deadline_only_while_active() -> None:
    from datetime import UTC, datetime

    at = datetime(2026, 1, 1, tzinfo=UTC)
    job = BulkJob(job_id="j", correlation_id="c", staged_key="k", records=1, created_at=at)
    assert not job.is_stuck(at + timedelta(minutes=59), timedelta(hours=1))
    assert job.is_stuck(at + timedelta(minutes=61), timedelta(hours=1))
    assert not job.model_copy(update={"status": "done"}).is_stuck(
        at + timedelta(days=1), timedelta(hours=1)
    )


def test_job_id_is_the_digest_of_the_writes() -> None:
    assert job_id_of([create(1), create(2)]) == job_id_of([create(2), create(1)])
    assert job_id_of([create(1)]) != job_id_of([create(1, city="Rome")])


# -- choice -------------------------------------------------------------------------------------
def test_rest_costs_a_call_per_300_of_each_kind() -> None:
    assert rest_write_calls([create(n) for n in range(301)]) == 2
    assert rest_write_calls([create(1), update(2)]) == 2
    assert polls_for(0, (5, 10)) == 1
    assert polls_for(26, (5, 10, 20)) == 3


def test_volume_over_the_threshold_goes_bulk() -> None:
    records = [create(n) for n in range(3_000)]
    choice = choose_path(records, quota_left=None, threshold=1_000)
    assert choice.path is SyncPath.BULK
    assert choice.rest_calls == 10
    assert choice.bulk_calls < choice.rest_calls
    assert choice.lookups == 10
    assert "bulk" in choice.describe()


def test_small_runs_stay_rest_unless_the_budget_is_short() -> None:
    records = [create(n) for n in range(2_000)]
    assert choose_path(records, quota_left=1_000, threshold=5_000).path is SyncPath.REST
    short = choose_path(records, quota_left=3, threshold=5_000)
    assert short.path is SyncPath.BULK
    assert "budget" in short.reason
    assert choose_path(records, quota_left=0, threshold=0).path is SyncPath.REST  # bulk off


def test_bulk_never_chosen_when_it_costs_more() -> None:
    records = [create(n) for n in range(200)]
    assert choose_path(records, quota_left=0, threshold=1).path is SyncPath.REST
    by_id = [update(n, by_email=False) for n in range(3_000)]
    assert choose_path(by_id, quota_left=None, threshold=1).path is SyncPath.REST
