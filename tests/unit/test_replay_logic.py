"""`leadsync replay` against in-memory ports: what is re-driven, once, and in which order."""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from leadsync.activities.records import ChatActivity
from leadsync.adapters.dead_letters import ERROR_CODE, ERROR_MESSAGE
from leadsync.errors import DependencyError
from leadsync.ops.cli import main
from leadsync.ops.replay.report import ReplayReport
from leadsync.ops.replay.run import ReplayOptions, replay
from leadsync.sync.failures import ErrorEntry, ErrorKind, from_record
from leadsync.sync.fetch.batching import BatchLimits
from leadsync.sync.messages import (
    ActivityOperation,
    DeleteOperation,
    FailureNote,
    ListOperation,
    SyncBatch,
    SyncRecord,
)
from tests.support.replay_fakes import FakeDeadLetterQueue, FakeErrorStore, FakeSyncQueue

NOW = datetime(2026, 1, 15, 13, 0, tzinfo=UTC)
LIMITS = BatchLimits(300, 200_000)
ROOT = Path(__file__).resolve().parents[2]


def _record(email: str, *, chats: tuple[str, ...] = ("C1",), **fields: Any) -> SyncRecord:
    return SyncRecord(
        action="create",
        email=email,
        fields={"email": email, "firstName": "Ann", **fields},
        chat_ids=list(chats),
    )


def _note(hours_ago: int, attempt: int, code: str = "HTTP 503") -> FailureNote:
    return FailureNote(
        at=NOW - timedelta(hours=hours_ago),
        attempt=attempt,
        code=code,
        message="Service Unavailable",
        request="createOnly 2 records",
    )


def _dead_batch(
    correlation_id: str, records: list[SyncRecord], *, failed_hours_ago: int = 2
) -> SyncBatch:
    return SyncBatch(
        correlation_id=correlation_id,
        created_at=NOW - timedelta(hours=6),
        records=records,
        attempts=4,
        not_before=NOW + timedelta(hours=3),
        failures=[_note(failed_hours_ago + 1, 1), _note(failed_hours_ago, 4, "604")],
    )


def _undeliverable(
    record: SyncRecord, *, hours_ago: int = 1, correlation_id: str | None = "fetch-1"
) -> ErrorEntry:
    return from_record(
        record,
        reason="marketo_1006",
        detail="Field 'firstName' not found",
        at=NOW - timedelta(hours=hours_ago),
        correlation_id=correlation_id,
        code="1006",
        request="createOnly 1 records",
        attempts=2,
    )


class World:
    def __init__(self) -> None:
        self.log: list[str] = []
        self.dlq = FakeDeadLetterQueue(log=self.log)
        self.store = FakeErrorStore(log=self.log)
        self.queue = FakeSyncQueue(log=self.log)

    def replay(self, **options: Any) -> ReplayReport:
        return replay(
            dead_letters=self.dlq,
            errors=self.store,
            queue=self.queue,
            options=ReplayOptions(limits=options.pop("limits", LIMITS), **options),
            now=lambda: NOW,
        )

    def sent_records(self) -> list[SyncRecord]:
        return [record for batch in self.queue.batches for record in batch.records]


@pytest.fixture
def world() -> World:
    return World()


def test_a_dead_letter_goes_back_with_its_history_and_a_fresh_count_then_is_deleted(
    world: World,
) -> None:
    dead = _dead_batch("corr-1", [_record("ann@example.com"), _record("bob@example.com")])
    world.dlq.put_batch(dead)

    report = world.replay()

    [sent] = world.queue.batches
    assert sent.correlation_id == "corr-1"
    assert sent.records == dead.records
    assert (sent.attempts, sent.not_before) == (0, None)
    assert sent.failures == dead.failures  # a later failure still shows these
    assert (sent.first_failure_at, sent.last_failure_at) == (
        NOW - timedelta(hours=3),
        NOW - timedelta(hours=2),
    )
    assert [letter.message_id for letter in world.dlq.deleted] == ["dl-1"]
    assert world.dlq.visible == world.dlq.hidden == []
    assert world.dlq.visibility[0] >= 300  # out of sight for the whole run
    assert report.summary() == (
        "replay: dead_letters=1 records=2 error_entries=0 duplicates=0 messages_sent=1 "
        "not_replayable=0 rejected_left=0 dry_run=false"
    )


def test_error_store_records_are_batched_again_per_correlation_id_and_marked(
    world: World,
) -> None:
    keys = [
        world.store.add(_undeliverable(_record(f"p{n}@example.com"), correlation_id="fetch-1"))
        for n in range(3)
    ]
    keys.append(world.store.add(_undeliverable(_record("q@example.com"), correlation_id=None)))

    report = world.replay(limits=BatchLimits(2, 200_000))

    by_id: dict[str, list[SyncBatch]] = {}
    for batch in world.queue.batches:
        by_id.setdefault(batch.correlation_id, []).append(batch)
    assert [len(b.records) for b in by_id.pop("fetch-1")] == [2, 1]
    [(fresh, [alone])] = by_id.items()  # no correlation id: a new one
    assert fresh != "fetch-1"
    assert [r.email for r in alone.records] == ["q@example.com"]
    assert all(b.attempts == 0 for b in world.queue.batches)
    # the entries' failures travel as the batch's history
    [note] = alone.failures
    assert (note.code, note.attempt, note.request) == ("1006", 2, "createOnly 1 records")
    assert all(world.store.entries[key].replayed_at == NOW for key in keys)
    assert (report.error_entries, report.records, report.messages_sent) == (4, 4, 3)


def test_a_record_in_the_dead_letters_and_the_error_store_goes_once_the_latest(
    world: World,
) -> None:
    twice = _record("twice@example.com", chats=("C7",))
    world.dlq.put_batch(_dead_batch("dl-a", [twice], failed_hours_ago=5))  # older
    world.dlq.put_batch(_dead_batch("dl-b", [_record("solo@example.com"), twice]))
    later = world.store.add(_undeliverable(twice, hours_ago=1, correlation_id="up-9"))
    other_fields = world.store.add(
        _undeliverable(_record("twice@example.com", city="Lyon"), correlation_id="up-9")
    )

    report = world.replay()

    emails = sorted(r.email for r in world.sent_records())
    assert emails == ["solo@example.com", "twice@example.com", "twice@example.com"]
    same = [r for r in world.sent_records() if r.email == "twice@example.com"]
    assert sorted("city" in r.fields for r in same) == [False, True]  # other fields: both go
    [upload_9] = [b for b in world.queue.batches if b.correlation_id == "up-9"]
    assert len(upload_9.records) == 2  # the latest failure of the duplicate is the entry's
    [dl_b] = [b for b in world.queue.batches if b.correlation_id == "dl-b"]
    assert [r.email for r in dl_b.records] == ["solo@example.com"]
    # dl-a had only the duplicate: no message, but it is re-driven, so deleted
    assert {letter.message_id for letter in world.dlq.deleted} == {"dl-1", "dl-2"}
    assert world.store.entries[later].replayed_at is not None
    assert world.store.entries[other_fields].replayed_at is not None
    assert (report.duplicates, report.dead_letters, report.messages_sent) == (2, 2, 2)


def test_the_queue_accepts_everything_before_anything_is_deleted_or_marked(
    world: World,
) -> None:
    world.dlq.put_batch(_dead_batch("dl-a", [_record("a@example.com")]))
    key = world.store.add(_undeliverable(_record("b@example.com")))

    world.replay()

    receives = ["receive 1", "receive 0", "receive 0"]
    assert world.log == [*receives, "send 2", "delete 1", f"mark {key}"]


def test_a_refused_send_leaves_every_failure_where_it_was(world: World) -> None:
    world.dlq.put_batch(_dead_batch("dl-a", [_record("a@example.com")]))
    key = world.store.add(_undeliverable(_record("b@example.com")))
    world.queue.error = DependencyError("SQS SendMessageBatch failed", dependency="sqs")

    report = world.replay()

    assert world.dlq.deleted == []
    assert [letter.message_id for letter in world.dlq.visible] == ["dl-1"]  # released at once
    assert world.store.entries[key].replayed_at is None
    assert not any(line.startswith(("delete", "mark")) for line in world.log)
    assert "nothing was deleted or marked" in report.problems[0]
    assert (report.dead_letters, report.error_entries, report.messages_sent) == (0, 0, 0)
    # once the queue works again, the same run re-drives them
    world.queue.error = None
    assert world.replay().messages_sent == 2


def test_a_failed_delete_after_the_send_is_said_and_the_letter_comes_back(
    world: World,
) -> None:
    world.dlq.put_batch(_dead_batch("dl-a", [_record("a@example.com")]))
    world.dlq.delete_error = DependencyError("SQS DeleteMessageBatch failed", dependency="sqs")

    report = world.replay()

    assert len(world.queue.batches) == 1
    assert [letter.message_id for letter in world.dlq.visible] == ["dl-1"]
    assert "could not be deleted" in report.problems[0]


def test_a_dry_run_says_what_a_run_would_do_and_changes_nothing(world: World) -> None:
    world.dlq.put_batch(_dead_batch("dl-a", [_record("a@example.com")]))
    world.dlq.put("not json", {ERROR_CODE: "invalid_message", ERROR_MESSAGE: "not JSON"})
    key = world.store.add(_undeliverable(_record("b@example.com")))

    dry = world.replay(dry_run=True)

    assert world.queue.batches == []
    assert world.dlq.deleted == []
    assert len(world.dlq.visible) == 2
    assert world.store.entries[key].replayed_at is None
    assert not any(line.startswith(("send", "delete", "mark")) for line in world.log)
    assert any("would be re-driven" in line for line in dry.lines)
    real = world.replay()
    assert dry.summary() == real.summary().replace("dry_run=false", "dry_run=true")


def test_what_cannot_be_replayed_stays_and_is_counted(world: World) -> None:
    world.dlq.put("not json", {ERROR_CODE: "invalid_message", ERROR_MESSAGE: "not JSON"})
    broken = ErrorEntry(
        kind=ErrorKind.UNDELIVERABLE,
        reason="invalid_message",
        record={"message_id": "m-1", "bytes": 8},
        first_failure_at=NOW,
        last_failure_at=NOW,
    )
    broken_key = world.store.add(broken)
    huge = _record("big@example.com", notes="x" * 60_000)
    huge_key = world.store.add(_undeliverable(huge))

    report = world.replay(limits=BatchLimits(300, 50_000))

    assert world.queue.batches == []
    assert [letter.body for letter in world.dlq.visible] == ["not json"]
    assert world.dlq.deleted == []
    assert world.store.entries[broken_key].replayed_at is None
    assert world.store.entries[huge_key].replayed_at is None
    assert report.not_replayable == 3
    text = "\n".join(report.lines)
    assert "dl-1: its body is not a batch (invalid_message: not JSON)" in text
    assert "does not fit in one message" in text


def test_rejected_chats_are_counted_once_each_with_the_way_to_replay_them(
    world: World,
) -> None:
    for hours in (3, 2):  # the fetch's overlap read the same chat twice
        world.store.add(
            ErrorEntry(
                kind=ErrorKind.REJECTED,
                reason="invalid_email",
                chat_ids=["C1"],
                first_failure_at=NOW - timedelta(hours=hours),
                last_failure_at=NOW - timedelta(hours=hours),
            )
        )
    world.store.add(
        ErrorEntry(
            kind=ErrorKind.REJECTED,
            reason="missing_email",
            chat_ids=["C2"],
            first_failure_at=NOW,
            last_failure_at=NOW,
        )
    )

    report = world.replay()

    assert report.rejected_left == 2
    assert world.queue.batches == []
    assert not any(line.startswith("mark") for line in world.log)
    [line] = [line for line in report.lines if line.startswith("rejected")]
    assert "rewinding the fetch mark to before 2026-01-15T10:00:00Z" in line


def test_entries_replayed_before_are_not_sent_again(world: World) -> None:
    key = world.store.add(_undeliverable(_record("a@example.com")))
    assert world.replay().messages_sent == 1
    again = world.replay()
    assert (again.messages_sent, again.error_entries) == (0, 0)
    assert world.store.entries[key].replayed_at == NOW
    assert len(world.queue.batches) == 1


def test_max_bounds_one_run_and_the_rest_waits_for_the_next(world: World) -> None:
    for n in range(3):
        world.dlq.put_batch(_dead_batch(f"dl-{n}", [_record(f"d{n}@example.com")]))
    keys = [world.store.add(_undeliverable(_record(f"e{n}@example.com"))) for n in range(2)]

    first = world.replay(max_failures=4)

    assert (first.dead_letters, first.error_entries) == (3, 1)
    assert any("--max 4 reached" in line for line in first.lines)
    second = world.replay(max_failures=4)
    assert (second.dead_letters, second.error_entries) == (0, 1)
    assert all(world.store.entries[key].replayed_at for key in keys)


def test_the_time_range_bounds_both_sources(world: World) -> None:
    world.dlq.put_batch(_dead_batch("old", [_record("old@example.com")], failed_hours_ago=30))
    world.dlq.put_batch(_dead_batch("new", [_record("new@example.com")], failed_hours_ago=2))
    world.store.add(_undeliverable(_record("old2@example.com"), hours_ago=30))
    world.store.add(_undeliverable(_record("new2@example.com"), hours_ago=2))

    report = world.replay(since=NOW - timedelta(days=1))

    assert sorted(r.email for r in world.sent_records()) == ["new2@example.com", "new@example.com"]
    assert [letter.batch.correlation_id for letter in world.dlq.visible] == ["old"]
    assert world.store.queried[-1] == (NOW - timedelta(days=1), NOW)
    assert any("outside the time range" in line for line in report.lines)


def test_no_e_mail_address_is_said_in_clear(world: World) -> None:
    dead = _dead_batch("dl-a", [_record("jane.doe@example.com")])
    failures = [
        dead.failures[0].model_copy(update={"message": "lead jane.doe@example.com refused"})
    ]
    world.dlq.put_batch(dead.model_copy(update={"failures": failures}))
    world.store.add(_undeliverable(_record("max.power@example.org")))

    report = world.replay(dry_run=True)

    text = "\n".join([*report.lines, report.summary()])
    assert not re.search(r"jane\.doe|max\.power|example\.(com|org)", text)
    assert "j***@e***.com" in text


def test_the_cli_refuses_bad_arguments_with_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    urls = [
        "--sync-queue-url",
        "http://q/sync",
        "--dead-letter-queue-url",
        "http://q/dlq",
        "--state-table",
        "t",
    ]
    assert main(["replay", "--stack", "s", "--since", "yesterday"]) == 2
    assert "not a date or time: 'yesterday'" in capsys.readouterr().err
    assert main(["replay", "--stack", "s", "--since", "2026-02-01", "--until", "2026-01-01"]) == 2
    assert "--since must be before --until" in capsys.readouterr().err
    assert main(["replay", "--sync-queue-url", "http://q/sync"]) == 2
    assert "missing: --dead-letter-queue-url, --state-table" in capsys.readouterr().err
    assert main(["replay", "--stack", "s", *urls]) == 2
    assert "not both" in capsys.readouterr().err
    assert main(["replay", "--stack", "s", "--max", "0"]) == 2
    assert main([]) == 2
    assert main(["replay", "--help"]) == 0
    assert "--dry-run" in capsys.readouterr().out


def test_the_installed_tool_carries_the_layers_requirements() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    layer = (ROOT / "layers" / "leadsync" / "requirements.txt").read_text().split()
    assert set(layer) <= set(project["dependencies"])
    assert project["scripts"]["leadsync"] == "leadsync.ops.cli:main"


def test_one_empty_answer_does_not_end_the_gathering(world: World) -> None:
    world.dlq.put_batch(_dead_batch("dl-a", [_record("a@example.com")]))
    receive = world.dlq.receive
    calls: list[int] = []

    def sampled(limit: int = 10, *, visibility_seconds: int = 60) -> list[Any]:
        calls.append(limit)  # the first answer missed the letter (it was in flight)
        return [] if len(calls) == 1 else receive(limit, visibility_seconds=visibility_seconds)

    world.dlq.receive = sampled  # type: ignore[method-assign]

    assert world.replay().dead_letters == 1


def test_a_dead_lettered_list_operation_delete_or_activities_go_back_whole(
    world: World,
) -> None:
    operations: list[dict[str, Any]] = [
        {"list_operation": ListOperation(list_id=5, action="add", lead_ids=[1, 2])},
        {"delete": DeleteOperation(lead_ids=[3], references=["erasure-1"])},
        {
            "activities": ActivityOperation(
                type_api_name="livechatChat",
                activities=[
                    ChatActivity(
                        chat_id="C9",
                        email="ann@example.com",
                        lead_id=7,
                        activity_date=NOW - timedelta(hours=8),
                        primary_value="C9",
                    )
                ],
            )
        },
    ]
    for operation in operations:
        world.dlq.put_batch(
            SyncBatch(
                correlation_id="ops",
                created_at=NOW - timedelta(hours=5),
                attempts=4,
                failures=[_note(2, 4)],
                **operation,
            )
        )

    report = world.replay()

    assert [b.list_operation is not None for b in world.queue.batches] == [True, False, False]
    assert world.queue.batches[1].delete == operations[1]["delete"]
    assert world.queue.batches[2].activities == operations[2]["activities"]
    assert all(b.attempts == 0 for b in world.queue.batches)
    assert len(world.dlq.deleted) == 3  # deleted once sent, never before
    assert report.messages_sent == 3
