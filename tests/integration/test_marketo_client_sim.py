"""The Marketo client against the real simulator over HTTP (in-process, 127.0.0.1, port 0).

Time is moved on the simulator's clock, never slept; limits are made tight to provoke 606,
607 and 615. Every test ends by checking that each permit was acquired and released once and
that the simulator saw exactly the calls the limiter let through."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from leadsync.limiter.api import Outcome, Permit
from leadsync.marketo import (
    LOCAL_RECORD_TOO_LARGE,
    MarketoBulkBusy,
    MarketoClient,
    MarketoConcurrencyLimited,
    MarketoCredentialsError,
    MarketoEndpoints,
    MarketoQuotaExhausted,
    MarketoRateLimited,
)
from local.simulators.marketo import MarketoSimulator, SimulatorConfig
from tests.support.limiters import RecordingLimiter as Recording

pytestmark = pytest.mark.integration

CLIENT_ID, SECRET = "leadsync-client", "leadsync-secret"


class RecordingLimiter(Recording):
    """Also checks that every permit is asked for with its deadline still ahead."""

    def acquire(self, *, deadline_monotonic: float) -> Permit:
        assert deadline_monotonic > time.monotonic()
        return super().acquire(deadline_monotonic=deadline_monotonic)


@dataclass
class Rig:
    sim: MarketoSimulator
    limiter: RecordingLimiter
    client: MarketoClient

    def requests(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.sim.audit()["requests"]
        return [e for e in entries if e["action"] != "identity"]

    def identity_calls(self) -> int:
        return sum(1 for e in self.sim.audit()["requests"] if e["action"] == "identity")


Factory = Callable[..., Rig]


@pytest.fixture
def make() -> Iterator[Factory]:
    rigs: list[Rig] = []

    def factory(secret: str = SECRET, **config: Any) -> Rig:
        config.setdefault("write_delay_ms", 0)
        config.setdefault("bulk_start_delay_seconds", 0)
        sim = MarketoSimulator(
            SimulatorConfig(
                client_id=CLIENT_ID, client_secret=SECRET, host="127.0.0.1", port=0, **config
            )
        ).start()
        limiter = RecordingLimiter()
        endpoints = MarketoEndpoints(f"{sim.base_url}/rest", f"{sim.base_url}/identity")
        rig = Rig(sim, limiter, MarketoClient(endpoints, CLIENT_ID, secret, limiter))
        rigs.append(rig)
        return rig

    yield factory
    for rig in rigs:
        try:
            # the invariant every test shares: one release per acquire, one call per permit,
            # and identity calls never took a permit
            assert sorted(rig.limiter.acquired) == sorted(
                lease for lease, _ in rig.limiter.released
            )
            assert len(rig.limiter.acquired) == len(rig.requests())
            assert rig.identity_calls() == rig.client.calls["identity"]
        finally:
            rig.client.close()
            rig.sim.stop()


@pytest.fixture
def rig(make: Factory) -> Rig:
    return make()


def test_token_expiry_refreshes_and_replays_once(rig: Rig) -> None:
    rig.client.create_or_update([{"email": "ann@x.com"}])
    rig.sim.clock.advance(3601)  # the simulator's token expires; the client's clock did not move
    results = rig.client.create_or_update([{"email": "bob@x.com"}])
    assert results[0].status == "created"
    assert rig.identity_calls() == 2
    assert [e["errors"] for e in rig.requests()] == [[], ["602"], []]
    assert rig.limiter.outcomes == [Outcome.DONE, Outcome.NOT_COUNTED, Outcome.DONE]
    assert rig.sim.audit()["quota_used"] == 2  # the 602 cost nothing


def test_lookup_of_more_than_300_emails_splits(rig: Rig) -> None:
    rig.sim.seed_leads([{"email": f"user{i}@x.com", "city": f"c{i}"} for i in range(650)])
    rig.sim.seed_leads([{"email": "USER7@x.com", "city": "dup"}])  # a duplicate lead
    emails = [f"User{i}@X.com" for i in range(700)]
    found = rig.client.lookup_by_email(emails, ["city"])
    assert len(found) == 700
    assert [lead.get("city") for lead in found["user7@x.com"]] == ["c7", "dup"]
    assert found["user3@x.com"][0].get("city") == "c3"
    assert all(found[f"user{i}@x.com"] == [] for i in range(650, 700))
    # 300 values matching 301 leads (the duplicate) need a second page
    lookups = rig.requests()
    assert [e["records"] for e in lookups] == [300, 300, 300, 100]
    assert rig.limiter.outcomes == [Outcome.DONE] * 4
    assert {e["method"] for e in lookups} == {"GET"}


def test_long_filter_switches_to_post_and_avoids_414(rig: Rig) -> None:
    emails = [f"{'visitor-with-a-long-address' * 3}.{i}@example.com" for i in range(300)]
    rig.sim.seed_leads([{"email": emails[5]}])
    found = rig.client.lookup_by_email(emails)
    assert [lead.get("email") for lead in found[emails[5]]] == [emails[5]]
    (entry,) = rig.requests()
    assert (entry["method"], entry["http_status"], entry["records"]) == ("POST", 200, 300)
    assert entry["action"] == "lookup"


def test_record_reasons_come_back_in_input_order(rig: Rig) -> None:
    created = rig.client.create_only([{"email": "a@x.com"}, {"email": "b@x.com"}])
    again = rig.client.create_only(
        [
            {"email": "new1@x.com"},
            {"email": "A@x.com"},
            {"email": "new2@x.com"},
            {"email": "b@x.com"},
        ]
    )
    assert [(r.index, r.status, r.codes) for r in again] == [
        (0, "created", ()),
        (1, "skipped", ("1005",)),
        (2, "created", ()),
        (3, "skipped", ("1005",)),
    ]
    updated = rig.client.update_only(
        [
            {"id": 999999, "city": "x"},
            {"id": created[1].id, "city": "Paris"},
            {"id": 888888, "city": "y"},
        ]
    )
    assert [(r.status, r.codes) for r in updated] == [
        ("skipped", ("1004",)),
        ("updated", ()),
        ("skipped", ("1004",)),
    ]
    leads = {lead["email"]: lead for lead in rig.sim.leads()}
    assert leads["b@x.com"]["city"] == "Paris"


def test_big_batches_split_and_never_meet_413(rig: Rig) -> None:
    tags = "t" * 9_000
    records = [{"email": f"v{i}@x.com", "livechatTags": tags} for i in range(400)]
    records.insert(10, {"email": "huge@x.com", "livechatTags": "h" * 1_100_000})
    results = rig.client.create_or_update(records)
    assert [r.index for r in results] == list(range(401))
    assert results[10].codes == (LOCAL_RECORD_TOO_LARGE,)
    assert sum(r.status == "created" for r in results) == 400
    calls = rig.requests()
    assert all(e["http_status"] == 200 for e in calls)
    assert len(calls) >= 4
    assert sum(e["records"] for e in calls) == 400
    assert "huge@x.com" not in {lead["email"] for lead in rig.sim.leads()}


def test_606_surfaces_as_rate_limited(make: Factory) -> None:
    rig = make(calls_per_window=3)
    for _ in range(3):
        rig.client.usage_today()
    with pytest.raises(MarketoRateLimited) as info:
        rig.client.usage_today()
    assert type(info.value) is MarketoRateLimited
    assert info.value.code == "606"
    assert info.value.request_id
    assert info.value.retry_after == 20
    assert rig.limiter.outcomes[-1] is Outcome.RATE_LIMITED
    rig.sim.clock.advance(21)  # the window slides; the caller retries when it decides to
    assert rig.client.error_stats().errors[0].code == "606"


def test_615_surfaces_as_concurrency_limited(rig: Rig) -> None:
    rig.sim.set_faults(neighbour_in_flight=rig.sim.config.max_in_flight)
    with pytest.raises(MarketoConcurrencyLimited) as info:
        rig.client.lookup_by_email(["a@x.com"])
    assert info.value.code == "615"
    assert info.value.retryable
    assert rig.limiter.outcomes == [Outcome.CONCURRENCY_LIMITED]
    assert len(rig.requests()) == 1  # no hidden retry


def test_607_surfaces_as_quota_exhausted(make: Factory) -> None:
    rig = make(daily_quota=2)
    rig.client.delete([1])
    rig.client.usage_today()
    with pytest.raises(MarketoQuotaExhausted) as info:
        rig.client.create_or_update([{"email": "a@x.com"}])
    exc = info.value
    assert exc.code == "607"
    assert exc.resumes_at is not None
    assert exc.retry_after is not None
    assert 0 < exc.retry_after <= 25 * 3600
    assert rig.limiter.outcomes == [Outcome.DONE, Outcome.DONE, Outcome.QUOTA_EXHAUSTED]


def test_delete_lists_and_usage(rig: Rig) -> None:
    ids = [r.id for r in rig.client.create_or_update([{"email": f"l{i}@x.com"} for i in range(3)])]
    assert all(isinstance(i, int) for i in ids)
    a, b, c = (int(i) for i in ids if i is not None)
    assert [r.status for r in rig.client.add_to_list(1001, [a, b, 424242])] == [
        "added",
        "added",
        "skipped",
    ]
    assert rig.client.is_member(1001, [a, c, 424242]) == {a: True, c: False, 424242: False}
    removed = rig.client.remove_from_list(1001, [a, c])
    assert [(r.status, r.codes) for r in removed] == [("removed", ()), ("skipped", ("1015",))]
    deleted = rig.client.delete([b, 424242])
    assert [(r.status, r.codes) for r in deleted] == [("deleted", ()), ("skipped", ("1004",))]
    assert {lead["id"] for lead in rig.sim.leads()} == {a, c}
    usage = rig.client.usage_today()
    assert usage.total == 6
    assert usage.users[0].user_id == rig.sim.config.api_user_id
    assert rig.client.calls["usage"] == 1
    assert rig.client.calls["list_add"] == 1


def test_bulk_submit_status_and_failures(make: Factory) -> None:
    rig = make(bulk_queued_slots=1, bulk_rows_per_second=10)
    csv = b"email,firstName,notAField\nok@x.com,Ok,z\nnot-an-email,Bad,z\n"
    job = rig.client.submit_import(csv, lookup_field="email", list_id=1001)
    assert job.status == "Queued"
    assert not job.finished
    with pytest.raises(MarketoBulkBusy) as info:  # one slot: the queue is full
        rig.client.submit_import(csv)
    assert info.value.code == "1016"
    assert info.value.retryable
    rig.sim.clock.advance(5)
    done = rig.client.import_status(job.batch_id)
    assert (done.status, done.processed, done.failed, done.warnings) == ("Complete", 1, 1, 1)
    failures = rig.client.import_failures(job.batch_id).decode().splitlines()
    assert failures[0].endswith("Import Failure Reason")
    assert failures[1].startswith("not-an-email")
    warnings = rig.client.import_warnings(job.batch_id).decode().splitlines()
    assert warnings[0].endswith("Import Warning Reason")
    assert warnings[1].startswith("ok@x.com")
    assert rig.client.is_member(1001, [rig.sim.leads()[0]["id"]]) == {
        rig.sim.leads()[0]["id"]: True
    }


def test_bad_credentials_take_no_permit(make: Factory) -> None:
    rig = make(secret="wrong")
    with pytest.raises(MarketoCredentialsError):
        rig.client.usage_today()
    assert rig.limiter.acquired == []
    assert rig.identity_calls() == 1
