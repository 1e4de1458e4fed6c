"""Marketo calls of one sync against Grouparoo's published arithmetic and the lower bound.

For each workload (Grouparoo's two published ones: 300 changed users with 5 lists, and
1,000; and the first again with every chat written as an activity, ChatActivities=true and
the type made by `leadsync check --fix`), a local world with 5 static lists in the Marketo
simulator and list rules for them (a tag, a country, a pre-chat answer, a chat count,
another tag), written into the layer the functions run from as an operator's edit of
list_rules.toml would be (`WorldOptions.list_rules`).

Run 1 establishes the state: the visitors that run 2 updates or erases chat, leadsync
creates their leads and sets their lists. Then the world changes, and run 2 is measured:

- updates: existing visitors chat again, their tags, country, pre-chat answer and number of
  chats drawn again (list additions and removals, and field updates),
- creates: new visitors chat,
- deletes: erasure requests for existing visitors' e-mails go to the ErasureQueue.

The changed users are N = creates + updates + deletes (N/3 creates, N/6 deletes, the rest
updates). Run 2's calls are read from the Marketo simulator's audit, leaving out the
`identity` (token) requests and the usage reads (`stats:*`), which no sync plan counts.
(marketo_calls is leadsync.sync.fetch.marketo_calls.)

    lower_bound = marketo_calls.lower_bound(Workload(lookups=N, creates, updates,
                  deletes, list_adds, list_removes)), from the counts the workload was made with:
                  ceil(lookups/300) + ceil((creates+updates)/300) + ceil(deletes/300)
                  + Σ_list (ceil(adds/300) + ceil(removes/300)) + ceil(activities/300)
                  (creates and updates can share one createOrUpdate call by e-mail;
                  activities: run 2's chats, 300 a call whatever their leads)
    grouparoo   = marketo_calls.separate_writes(the same workload): Grouparoo's pipeline,
                  which looks up, deletes, updates by id (updateOnly), creates (createOrUpdate)
                  and changes each list in calls of their own:
                  ceil(lookups/300) + ceil(deletes/300) + ceil(updates/300)
                  + ceil(creates/300) + Σ_list (ceil(adds/300) + ceil(removes/300)).
                  On these workloads it gives their published figures: 14 for 300 users with
                  5 lists, 19 for 1,000.

The last lines are exactly, one per workload:

    calls: workload=NAME users=N lists=N ours=N grouparoo=N lower_bound=N
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "leadsync")]

from benchmarks.runs import Say, measure_each  # noqa: E402
from leadsync.sync.fetch.marketo_calls import CallPlan, Workload, lower_bound, separate_writes  # noqa: E402
from local.check_run import run_check  # noqa: E402
from local.simulators.livechat.authored import authored_chat  # noqa: E402
from local.world import LocalWorld, WorldOptions  # noqa: E402

MAX_IDS = 300
LISTS = {
    1001: ("Hot chats", 'tag = "hot"'),
    1002: ("Poland", 'country = "Poland"'),
    1003: ("Enterprise", 'prechat = { question = "Company size", answer = "1000+" }'),
    1004: ("Returning visitors", "chat_count_at_least = 2"),
    1005: ("Pricing", 'tag = "pricing"'),
}
WORKLOADS = {"grouparoo-300": 300, "grouparoo-1000": 1000, "grouparoo-300-activities": 300}
PUBLISHED = {300: 14, 1000: 19}


def list_rules_toml(lists: dict[int, tuple[str, str]] = LISTS) -> str:
    return "".join(
        f'[[rules]]\nlist_id = {list_id}\nname = "{name}"\n{condition}\n\n'
        for list_id, (name, condition) in lists.items()
    )


@dataclass(frozen=True)
class Profile:
    """What a visitor shows in one run's chats, and so the lists it belongs in."""

    hot: bool
    poland: bool
    enterprise: bool
    two_chats: bool
    pricing: bool

    @classmethod
    def draw(cls, rnd: random.Random) -> Profile:
        return cls(
            hot=rnd.random() < 0.4,
            poland=rnd.random() < 0.3,
            enterprise=rnd.random() < 0.3,
            two_chats=rnd.random() < 0.25,
            pricing=rnd.random() < 0.35,
        )

    @property
    def lists(self) -> frozenset[int]:
        flags = (self.hot, self.poland, self.enterprise, self.two_chats, self.pricing)
        return frozenset(list_id for list_id, on in zip(LISTS, flags, strict=True) if on)

    def chats(self, key: str, email: str, at: datetime, customer_id: str) -> list[dict[str, Any]]:
        tags = [tag for tag, on in (("hot", self.hot), ("pricing", self.pricing)) if on]
        size = "1000+" if self.enterprise else "10-50"
        return [
            authored_chat(
                f"{key}C{n}",
                email=email,
                at=at + timedelta(seconds=30 * n),
                customer_id=customer_id,
                country="Poland" if self.poland else "Germany",
                tags=tags,
                prechat={"Company size:": size},
            )
            for n in range(2 if self.two_chats else 1)
        ]


@dataclass
class Scenario:
    """Two runs' chats and erasures, and the workload run 2 holds by construction."""

    users: int
    first: dict[str, Profile] = field(default_factory=dict)  # e-mail → run 1
    second: dict[str, Profile] = field(default_factory=dict)  # e-mail → run 2
    erased: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)

    @classmethod
    def make(cls, users: int, seed: int) -> Scenario:
        rnd = random.Random(seed)
        creates, deletes = users // 3, users // 6
        updates = users - creates - deletes
        scenario = cls(users)
        for n in range(updates + deletes):
            email = f"known.{n}@visitors.example.com"
            scenario.first[email] = Profile.draw(rnd)
            (scenario.updated if n < updates else scenario.erased).append(email)
        for email in scenario.updated:
            scenario.second[email] = Profile.draw(rnd)
        for n in range(creates):
            email = f"new.{n}@visitors.example.com"
            scenario.created.append(email)
            scenario.second[email] = Profile.draw(rnd)
        return scenario

    def chats(self, profiles: dict[str, Profile], run: int, at: datetime) -> list[dict[str, Any]]:
        chats: list[dict[str, Any]] = []
        for n, (email, profile) in enumerate(sorted(profiles.items())):
            key = f"R{run}V{n:05d}"
            moment = at + timedelta(milliseconds=10 * n)
            chats.extend(profile.chats(key, email, moment, f"customer-{email}"))
        return chats

    def workload(self, *, activities: bool = False) -> Workload:
        adds: Counter[int] = Counter()
        removes: Counter[int] = Counter()
        for email, now in self.second.items():
            before = self.first[email].lists if email in self.first else frozenset()
            adds.update(now.lists - before)
            removes.update(before - now.lists)
        return Workload(
            lookups=len(self.second) + len(self.erased),
            creates=len(self.created),
            updates=len(self.updated),
            deletes=len(self.erased),
            list_adds=dict(adds),
            list_removes=dict(removes),
            activities=sum(2 if p.two_chats else 1 for p in self.second.values())
            if activities
            else 0,
        )


KIND_OF_ACTION = {
    "lookup": "lookup",
    "sync:createOnly": "create",
    "sync:updateOnly": "update",
    "sync:createOrUpdate": "write",
    "delete": "delete",
    "list:add": "list_add",
    "list:remove": "list_remove",
    "activities:add": "activities",
}


def ours(requests: list[dict[str, Any]]) -> tuple[int, Counter[str]]:
    counted = [
        r for r in requests if r["action"] != "identity" and not r["action"].startswith("stats:")
    ]
    return len(counted), Counter(str(r["action"]) for r in counted)


def run_sync(world: LocalWorld, say: Callable[[str], None]) -> tuple[dict[str, Any], int]:
    """Fire the schedule and drain the upload; the fetch summary and the audit's start."""
    seq = int(world.marketo_audit(limit=0).get("total_requests", 0))
    summary: dict[str, Any] = world.fire_schedule("FetchFunction").result
    say(
        "fetch: "
        + " ".join(
            f"{k}={summary.get(k)}"
            for k in (
                "chats",
                "visitors",
                "creates",
                "updates",
                "unchanged",
                "messages",
                "list_messages",
                "delete_messages",
                "erasures",
            )
        )
    )
    world.drain_queue("UploadFunction", wait_in_flight=True)
    return summary, seq


def measure(name: str, users: int, seed: int, state: Path, say: Callable[[str], None]) -> str:
    scenario = Scenario.make(users, seed)
    activities = name.endswith("-activities")
    workload = scenario.workload(activities=activities)
    options = WorldOptions(
        stack_name=f"leadsync-calls-{users}",
        state_dir=state / name,
        chats=0,
        seed=seed,
        list_rules=list_rules_toml(),
        parameters={"ChatActivities": "true"} if activities else {},
    )
    with LocalWorld(options) as world:
        if activities and run_check(world, "--fix").code != 0:
            raise SystemExit(f"{name}: leadsync check --fix failed")
        existing = set(world.marketo_lists())
        for list_id, (list_name, _) in LISTS.items():
            if list_id not in existing:
                world.add_marketo_list(list_id, list_name)
        overlap = timedelta(minutes=10)
        first_at = world.chats_start + timedelta(minutes=1)
        world.add_livechat_chats(scenario.chats(scenario.first, 1, first_at))
        world.rewind_fetch_mark(world.chats_start + overlap)
        say(f"{name}: run 1 establishes {len(scenario.first)} leads and their lists")
        run_sync(world, say)
        leads = world.marketo_leads()
        say(f"{name}: after run 1 Marketo holds {len(leads)} leads")

        second_at = datetime.now(UTC) - timedelta(seconds=90)
        world.add_livechat_chats(scenario.chats(scenario.second, 2, second_at))
        world.request_erasures(scenario.erased)
        say(
            f"{name}: run 2: creates={workload.creates} updates={workload.updates} "
            f"deletes={workload.deletes} list_adds={sum(workload.list_adds.values())} "
            f"list_removes={sum(workload.list_removes.values())}"
        )
        started = time.monotonic()
        summary, seq = run_sync(world, say)
        seen = (summary["creates"], summary["updates"], summary["erasures"])
        if seen != (workload.creates, workload.updates, workload.deletes):
            say(f"{name}: WARNING the fetch saw creates, updates, erasures = {seen}")
        audit = world.marketo_audit(since=seq, limit=1_000_000)
        count, by_action = ours(list(audit.get("requests", [])))
        say(f"{name}: run 2 took {time.monotonic() - started:.1f} s")
        actions = dict(sorted(by_action.items()))
        say(f"{name}: ours by action (identity and stats:* left out): {actions}")
        bound: CallPlan = lower_bound(workload)
        say(f"{name}: lower bound by kind: {bound}")
        mine = Counter({KIND_OF_ACTION.get(action, action): n for action, n in by_action.items()})
        extra = {
            kind: mine.get(kind, 0) - getattr(bound, kind)
            for kind in KIND_OF_ACTION.values()
            if mine.get(kind, 0) != getattr(bound, kind)
        }
        if extra:
            say(f"{name}: ours minus lower bound by kind: {extra}")
        theirs = separate_writes(workload)
        say(f"{name}: grouparoo by kind: {theirs} (published: {PUBLISHED.get(users, '?')})")
        return (
            f"calls: workload={name} users={users} lists={len(LISTS)} ours={count} "
            f"grouparoo={theirs.total} lower_bound={bound.total}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--workload", choices=sorted(WORKLOADS), action="append", help="only these workloads"
    )
    args = parser.parse_args(argv)

    def run(name: str, state: Path, say: Say) -> str:
        return measure(name, WORKLOADS[name], args.seed, state, say)

    return measure_each("leadsync-calls-", args.workload or list(WORKLOADS), run)


if __name__ == "__main__":
    raise SystemExit(main())
