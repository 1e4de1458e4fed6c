"""Lists, erasures and e-mail changes on the local world, checked in the Marketo simulator's
own tables after two hourly runs.

Three static lists with rules (a tag, a country, a chat count), written into the layer as an
operator's edit of list_rules.toml. Run 1: 40 visitors chat; leadsync creates their leads and
puts them in their lists. Run 2: 25 of them chat again with other tags, countries and numbers
of chats, 15 new visitors chat, 7 are erased through the erasure queue, one through a chat
tag, and one chats under a new e-mail (same LiveChat customer, whose lead Marketo held before
run 1). Afterwards every list holds
exactly the leads its rule names, the erased leads are gone, and no e-mail has two leads.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.simulators.livechat.authored import authored_chat
from local.world import LocalWorld
from tests.support.local_world import started_world

pytestmark = pytest.mark.e2e

HOT, POLAND, RETURNING = 1001, 1002, 1003
RULES = f"""
[[rules]]
list_id = {HOT}
name = "Hot chats"
tag = "hot"

[[rules]]
list_id = {POLAND}
name = "Poland"
country = "poland"

[[rules]]
list_id = {RETURNING}
name = "Returning visitors"
chat_count_at_least = 2
"""
ERASURE_TAG = "forget-me"
KNOWN = 40
UPDATED = range(25)
QUEUE_ERASED = range(25, 32)
MOVED = 32
TAG_ERASED = 33
NEW = 15


@dataclass(frozen=True)
class Profile:
    hot: bool
    poland: bool
    chats: int

    @property
    def lists(self) -> set[int]:
        wanted = {HOT} if self.hot else set()
        wanted |= {POLAND} if self.poland else set()
        return wanted | ({RETURNING} if self.chats >= 2 else set())


def first_profile(n: int) -> Profile:
    return Profile(hot=n % 2 == 0, poland=n % 3 == 0, chats=1 + (n % 4 == 0))


def second_profile(n: int) -> Profile:
    return Profile(hot=n % 5 < 2, poland=n % 3 != 0, chats=1 + (n % 4 == 1))


def known(n: int) -> str:
    return f"known.{n}@visitors.example.com"


def new(n: int) -> str:
    return f"new.{n}@visitors.example.com"


MOVED_TO = "moved.32@visitors.example.com"


def chats_of(
    key: str, email: str, profile: Profile, at: datetime, customer: str, tags: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    return [
        authored_chat(
            f"{key}C{c}",
            email=email,
            at=at + timedelta(seconds=20 * c),
            customer_id=customer,
            country="Poland" if profile.poland else "Germany",
            tags=[*(["hot"] if profile.hot else []), *tags],
        )
        for c in range(profile.chats)
    ]


@dataclass
class Outcome:
    ids_after_first: dict[str, int]
    leads: list[dict[str, Any]]
    lists: dict[int, set[int]]
    summaries: list[dict[str, Any]]
    # the Marketo lead writes of run two, in the order the simulator saw them
    writes: list[str]


def _run(world: LocalWorld) -> dict[str, Any]:
    summary: dict[str, Any] = world.fire_schedule("FetchFunction").result
    world.drain_queue("UploadFunction", wait_in_flight=True)
    return summary


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outcome]:
    with started_world(
        tmp_path_factory,
        "lists-world",
        stack_name="leadsync-lists",
        chats=0,
        list_rules=RULES,
        parameters={"ErasureTags": ERASURE_TAG},
    ) as world:
        for list_id, name in ((POLAND, "Poland"), (RETURNING, "Returning visitors")):
            world.add_marketo_list(list_id, name)
        start = world.chats_start + timedelta(minutes=1)
        first = [
            chat
            for n in range(KNOWN)
            for chat in chats_of(
                f"A{n}", known(n), first_profile(n), start + timedelta(seconds=n), f"cust-{n}"
            )
        ]
        world.add_livechat_chats(first)
        # leadsync remembers a customer's address once it finds the lead under it: the lead of
        # the customer who changes address is in Marketo already
        world.seed_marketo([{"email": known(MOVED), "leadSource": "Website"}])
        world.rewind_fetch_mark(world.chats_start + timedelta(minutes=10))
        summaries = [_run(world)]
        ids = {lead["email"]: int(lead["id"]) for lead in world.marketo_leads()}

        at = datetime.now(UTC) - timedelta(seconds=60)
        second: list[dict[str, Any]] = []
        for n in UPDATED:
            second += chats_of(f"B{n}", known(n), second_profile(n), at, f"cust-{n}")
        for n in range(NEW):
            second += chats_of(f"N{n}", new(n), second_profile(n), at, f"new-cust-{n}")
        second += chats_of("M", MOVED_TO, second_profile(MOVED), at, f"cust-{MOVED}")
        second += chats_of(
            "T",
            known(TAG_ERASED),
            second_profile(TAG_ERASED),
            at,
            f"cust-{TAG_ERASED}",
            tags=(ERASURE_TAG,),
        )
        world.add_livechat_chats(second)
        world.request_erasures([known(n) for n in QUEUE_ERASED])
        seq = int(world.marketo_audit(limit=0).get("total_requests", 0))
        summaries.append(_run(world))
        audit = world.marketo_audit(since=seq, limit=100_000).get("requests", [])
        writes = [str(r["action"]) for r in audit if str(r["action"]).startswith("sync:")]
        yield Outcome(ids, world.marketo_leads(), world.marketo_lists(), summaries, writes)


def test_run_one_creates_every_visitor_once(outcome: Outcome) -> None:
    assert sorted(outcome.ids_after_first) == sorted(known(n) for n in range(KNOWN))
    assert outcome.summaries[0]["creates"] == KNOWN - 1
    assert outcome.summaries[0]["updates"] == 1


def test_no_email_has_two_leads(outcome: Outcome) -> None:
    counts = Counter(str(lead["email"]).lower() for lead in outcome.leads)
    assert [email for email, n in counts.items() if n > 1] == []


def test_erased_leads_are_gone_and_the_rest_remain(outcome: Outcome) -> None:
    erased = {known(n) for n in QUEUE_ERASED} | {known(TAG_ERASED)}
    expected = (
        {known(n) for n in range(KNOWN)} - erased - {known(MOVED)}
        | {new(n) for n in range(NEW)}
        | {MOVED_TO}
    )
    assert {lead["email"] for lead in outcome.leads} == expected
    gone = {outcome.ids_after_first[email] for email in erased}
    assert gone.isdisjoint(int(lead["id"]) for lead in outcome.leads)
    assert all(gone.isdisjoint(members) for members in outcome.lists.values())


def test_an_email_change_moves_the_lead(outcome: Outcome) -> None:
    by_email = {lead["email"]: int(lead["id"]) for lead in outcome.leads}
    assert by_email[MOVED_TO] == outcome.ids_after_first[known(MOVED)]


def test_every_list_holds_exactly_the_leads_its_rule_names(outcome: Outcome) -> None:
    latest: dict[str, Profile] = {known(n): first_profile(n) for n in range(KNOWN)}
    latest.update({known(n): second_profile(n) for n in UPDATED})
    latest.update({new(n): second_profile(n) for n in range(NEW)})
    latest[MOVED_TO] = second_profile(MOVED)
    ids = {lead["email"]: int(lead["id"]) for lead in outcome.leads}
    for list_id in (HOT, POLAND, RETURNING):
        wanted = {
            ids[email]
            for email, profile in latest.items()
            if email in ids and list_id in profile.lists
        }
        assert outcome.lists[list_id] == wanted, f"list {list_id}"


def test_run_two_queued_lists_and_deletes(outcome: Outcome) -> None:
    second = outcome.summaries[1]
    assert second["erasures"] == len(QUEUE_ERASED) + 1
    assert second["delete_messages"] == 1
    assert second["creates"] == NEW
    assert second["email_changes"] == 1


def test_run_two_writes_its_creates_and_updates_in_one_call_and_the_move_by_id(
    outcome: Outcome,
) -> None:
    assert sorted(outcome.writes) == ["sync:createOrUpdate", "sync:updateOnly"]
