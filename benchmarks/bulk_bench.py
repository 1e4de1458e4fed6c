"""Marketo calls of a large sync: the REST path only, beside the automatic choice.

For each run, a fresh local world: N visitors, one authored chat each, in the LiveChat
simulator; a third of them already leads in the Marketo simulator (half of those with
geography Marketo got elsewhere, which the sync must keep). The schedule fires the fetch,
then the SyncQueue (upload) and the BulkQueue (bulk imports: submit, delayed polls,
read-back) are drained until both are empty. The REST run has the bulk path off
(BulkThresholdRecords=0); the automatic run uses the template's defaults. The Marketo
simulator imports `--rows-per-second` rows a second (its clock runs in real time: the
measured seconds include the imports).

Figures come from the simulator's audit (token requests left out): the calls leadsync made
and the quota they used. `lost` counts visitors with neither a lead in Marketo nor an entry
in the error store. The last lines are exactly, one per run:

    bulk: path=NAME visitors=N marketo_calls=N quota_used=N seconds=N lost=N
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "leadsync")]

from benchmarks.runs import Say, measure_each  # noqa: E402
from leadsync.adapters.state import StateStore  # noqa: E402
from local.simulators.livechat.authored import authored_chat  # noqa: E402
from local.world import LocalWorld, WorldOptions  # noqa: E402

GEOGRAPHY = {"country": "Canada", "state": "Ontario", "city": "Toronto"}
COUNTRIES = ("Poland", "Germany", "France", "Spain", "Italy", "Brazil", "Japan")
CHUNK = 5_000


def email_of(n: int) -> str:
    return f"visitor{n:06d}@bench.example.com"


def load_world(world: LocalWorld, visitors: int, say: Callable[[str], None]) -> set[str]:
    """The chats, and the leads Marketo already holds; the e-mails whose geography Marketo
    had first (the sync must keep it)."""
    span = world.chats_end - world.chats_start - timedelta(minutes=2)
    step = span / max(visitors, 1)
    for start in range(0, visitors, CHUNK):
        chats = [
            authored_chat(
                f"B{n:06d}",
                email=email_of(n),
                at=world.chats_start + timedelta(minutes=1) + step * n,
                customer_id=f"customer-{n:06d}",
                name=f"Visitor {n}",
                country=COUNTRIES[n % len(COUNTRIES)],
            )
            for n in range(start, min(start + CHUNK, visitors))
        ]
        world.add_livechat_chats(chats)
    kept: set[str] = set()
    known = list(range(0, visitors, 3))
    for start in range(0, len(known), CHUNK):
        leads = []
        for n in known[start : start + CHUNK]:
            lead: dict[str, Any] = {"email": email_of(n), "leadSource": "Website"}
            if n % 2 == 0:
                lead.update(GEOGRAPHY)
                kept.add(email_of(n))
            leads.append(lead)
        world.seed_marketo(leads)
    say(f"{visitors:,} chats in LiveChat, {len(known):,} visitors already leads in Marketo")
    return kept


def drain_all(world: LocalWorld, say: Callable[[str], None]) -> None:
    """Both queues until both are empty (a bulk job given up on sends work to the upload)."""
    while True:
        upload = world.drain_queue("UploadFunction", wait_in_flight=True, deadline_s=3600)
        bulk = world.drain_queue("BulkFunction", wait_in_flight=True, deadline_s=3600)
        say(
            f"drained: upload {upload.invocations} invocation(s), bulk {bulk.invocations} "
            f"invocation(s)"
        )
        for error in [*upload.errors, *bulk.errors][:5]:
            say(f"  invocation error: {error[:300]}")
        if not (world.queue_depth("SyncQueueUrl") or world.queue_depth("BulkQueueUrl")):
            return


def account(world: LocalWorld, visitors: int, kept: set[str], since: datetime) -> dict[str, int]:
    assert world.stack is not None
    leads = world.marketo_leads()
    by_email: Counter[str] = Counter(str(lead.get("email", "")).lower() for lead in leads)
    state = StateStore(world.stack.outputs["StateTableName"], world.client("dynamodb"))
    entries = state.errors_between(since, datetime.now(UTC) + timedelta(minutes=1))
    reported = {
        str(entry.record.get("email", "")).lower()
        for entry in entries
        if entry.record is not None and entry.record.get("email")
    }
    wanted = {email_of(n) for n in range(visitors)}
    delivered = {email for email in wanted if by_email[email]}
    overwritten = sum(
        1
        for lead in leads
        if str(lead.get("email", "")).lower() in kept
        and any(lead.get(k) != v for k, v in GEOGRAPHY.items())
    )
    return {
        "delivered": len(delivered),
        "reported": len((wanted - delivered) & reported),
        "lost": len(wanted - delivered - reported),
        "duplicate_leads": sum(1 for email in wanted if by_email[email] > 1),
        "protected_overwritten": overwritten,
        "error_entries": len(entries),
    }


def measure(
    path: str,
    visitors: int,
    rows_per_second: float,
    seed: int,
    state: Path,
    say: Callable[[str], None],
) -> str:
    parameters = {"BulkThresholdRecords": "0"} if path == "rest" else {}
    options = WorldOptions(
        stack_name=f"leadsync-bulk-{path}",
        state_dir=state / path,
        chats=0,
        seed=seed,
        parameters=parameters,
        marketo_args=["--bulk-rows-per-second", str(rows_per_second)],
    )
    with LocalWorld(options) as world:
        kept = load_world(world, visitors, say)
        world.rewind_fetch_mark(world.chats_start + timedelta(minutes=10) - timedelta(seconds=1))
        before = world.marketo_audit(limit=0)
        seq, quota_before = int(before["total_requests"]), int(before["quota_used"])
        started, started_at = time.monotonic(), datetime.now(UTC) - timedelta(minutes=1)
        fetched: dict[str, Any] = world.fire_schedule("FetchFunction").result
        say(
            f"{path}: fetch took {time.monotonic() - started:.0f} s: visitors="
            f"{fetched.get('visitors')} creates={fetched.get('creates')} "
            f"updates={fetched.get('updates')} path={fetched.get('path')} "
            f"({fetched.get('path_reason')}) messages={fetched.get('messages')} "
            f"bulk_jobs={fetched.get('bulk_jobs')} bulk_records={fetched.get('bulk_records')}"
        )
        drain_all(world, say)
        seconds = time.monotonic() - started
        audit = world.marketo_audit(since=seq, limit=1_000_000)
        ours = [r for r in audit.get("requests", []) if r["action"] != "identity"]
        calls = sum(1 for r in ours if r["counted"])
        quota = int(audit["quota_used"]) - quota_before
        actions = dict(sorted(Counter(str(r["action"]) for r in ours).items()))
        say(f"{path}: calls by action (identity left out): {actions}")
        figures = account(world, visitors, kept, started_at)
        say(f"{path}: {figures}")
        return (
            f"bulk: path={path} visitors={visitors} marketo_calls={calls} quota_used={quota} "
            f"seconds={round(seconds)} lost={figures['lost']}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=100_000)
    parser.add_argument(
        "--rows-per-second",
        type=float,
        default=2_000.0,
        help="the Marketo simulator's import speed (rows a second)",
    )
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--path", choices=["rest", "auto"], action="append", help="only these")
    args = parser.parse_args(argv)

    def run(path: str, state: Path, say: Say) -> str:
        return measure(path, args.visitors, args.rows_per_second, args.seed, state, say)

    return measure_each("leadsync-bulk-", args.path or ["rest", "auto"], run)


if __name__ == "__main__":
    raise SystemExit(main())
