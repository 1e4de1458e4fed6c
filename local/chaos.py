"""`make chaos`: the hourly sync on the local world while Marketo misbehaves and upload
environments die mid-batch, then every visitor accounted for.

The Marketo simulator answers 5% of the calls with a 5xx, lets 2% time out (half of those
after applying the call, half of them by dropping the connection), expires the access token
every 100 calls, refuses 1% of the records, answers a fifth of the calls slowly, and another
integration uses part of the shared rate and of the calls in flight. While the SQS event
source mapping feeds the upload, a busy upload environment is killed (SIGKILL) every few
seconds. The queue is drained, waiting for the messages the failed and killed invocations
left in flight, the digest runs, and each visitor of the LiveChat data is looked for: in the
simulator's lead table with the chat's values (delivered), else in the error store or the
dead-letter queue with the digest naming the cause (reported), else it is lost. The last line:

    chaos: visitors=N delivered=N reported=N lost=N duplicate_leads=N protected_overwritten=N
    limit_errors_caused=N (one line)

Which visitors were lost, duplicated or overwritten, and why, is written to
`.local/chaos/report.json`; the functions' logs are under `.local/chaos/logs/`.
"""

from __future__ import annotations

import argparse
import html
import json
import random
import re
import shutil
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from local.lambda_runtime import FunctionPool, InvocationError
from local.sync_run import (
    LIMIT_CODES,
    SEEDED_GEOGRAPHY,
    read_dataset_from_start,
    seed_known_visitors,
)
from local.world import LocalWorld, WorldOptions

ROOT = Path(__file__).resolve().parents[1]
NEIGHBOUR = "other-integration@marketo.sim"
# the Marketo simulator's faults (its own flags, see local/simulators/marketo/config.py)
MARKETO_FAULTS: dict[str, str] = {
    "http-5xx-probability": "0.05",
    "timeout-probability": "0.02",
    "timeout-after-apply-probability": "0.5",
    "timeout-drop-probability": "0.5",
    "token-expire-every-calls": "100",
    "record-reject-probability": "0.01",
    "slow-probability": "0.2",
    "slow-min-ms": "200",
    "slow-max-ms": "2000",
    # leadsync's share is 50 calls per 20 s and 5 in flight of Marketo's 100 and 10
    "neighbour-calls-per-window": "40",
    "neighbour-in-flight": "3",
}
Say = Callable[[str], None]


@dataclass(frozen=True)
class ChaosSettings:
    visitors: int = 20_000
    seed: int = 7
    # upload processes killed; None: one per eight messages the fetch queued, 3 to 8
    kills: int | None = None
    kill_every_s: float = 4.0
    upload_timeout_s: int = 60
    visibility_s: int = 90
    # hourly runs the schedule may fire when a fetch fails (each reads the window again)
    fetch_runs: int = 3
    deadline_s: float = 1800.0
    faults: bool = True
    # records per Marketo call and per queue message; None: the template's default (300)
    records_per_call: int | None = None
    state_dir: Path = ROOT / ".local" / "chaos"

    def world_options(self) -> WorldOptions:
        faults = [f"--{name}={value}" for name, value in MARKETO_FAULTS.items()]
        return WorldOptions(
            stack_name="leadsync-chaos",
            state_dir=self.state_dir,
            seed=self.seed,
            marketo_args=[*(faults if self.faults else []), f"--seed={self.seed}"],
            livechat_args=[f"--visitors={self.visitors}"],
            parameters={
                "UploadTimeoutSeconds": str(self.upload_timeout_s),
                "SyncQueueVisibilitySeconds": str(self.visibility_s),
                **(
                    {"MarketoRecordsPerCall": str(self.records_per_call)}
                    if self.records_per_call
                    else {}
                ),
            },
        )


@dataclass
class ChaosReport:
    visitors: int = 0
    delivered: int = 0
    reported: int = 0
    lost: int = 0
    duplicate_leads: int = 0
    protected_overwritten: int = 0
    limit_errors_caused: int = 0
    # how the run went
    chats: int = 0
    rejected_chats: int = 0  # chats without a usable e-mail, per the LiveChat data
    rejected_in_store: int = 0  # of those, the ones the error store holds as rejected
    seeded: int = 0
    fetch_runs: int = 0
    fetched: bool = False
    fetch_failures: list[str] = field(default_factory=list)
    invocations: int = 0
    failed_invocations: int = 0
    kills_sent: int = 0
    kills_mid_invocation: int = 0
    messages_left: int = 0
    dead_letters: int = 0
    error_entries: int = 0
    digest_sent: bool = False
    digest_problems: list[str] = field(default_factory=list)
    marketo_calls: int = 0
    seconds: float = 0.0
    reported_by_cause: dict[str, int] = field(default_factory=dict)
    lost_by_why: dict[str, int] = field(default_factory=dict)
    lost_visitors: list[dict[str, Any]] = field(default_factory=list)
    duplicated: list[dict[str, Any]] = field(default_factory=list)
    overwritten: list[dict[str, Any]] = field(default_factory=list)
    limit_errors: list[dict[str, Any]] = field(default_factory=list)
    dead_letter_details: list[dict[str, Any]] = field(default_factory=list)
    faults_seen: dict[str, int] = field(default_factory=dict)

    @property
    def digest_agrees(self) -> bool:
        return self.digest_sent and not self.digest_problems

    def line(self) -> str:
        return (
            f"chaos: visitors={self.visitors} delivered={self.delivered} "
            f"reported={self.reported} lost={self.lost} "
            f"duplicate_leads={self.duplicate_leads} "
            f"protected_overwritten={self.protected_overwritten} "
            f"limit_errors_caused={self.limit_errors_caused}"
        )


# -- what the stores hold ---------------------------------------------------------------
@dataclass(frozen=True)
class StoredError:
    kind: str
    reason: str
    chat_ids: tuple[str, ...]
    email: str | None
    correlation_id: str | None
    key: str


@dataclass(frozen=True)
class DeadLetterView:
    emails: tuple[str, ...]
    cause: str
    correlation_id: str | None
    attributes: dict[str, str] = field(default_factory=dict)
    failures: list[Any] = field(default_factory=list)
    receive_count: int = 0


@dataclass(frozen=True)
class DigestView:
    subject: str
    dead_letters: int | None  # how many the digest says wait in the dead-letter queue
    groups: dict[tuple[str, str], int]  # error-store failures per (kind, reason)
    dead_letter_causes: dict[str, int]  # dead letters per cause, when the digest lists them


@dataclass
class Observed:
    visitors: list[dict[str, Any]]
    chats: int
    leads: list[dict[str, Any]]
    seeded: list[dict[str, Any]]
    errors: list[StoredError]
    dead_letters: list[DeadLetterView]
    dead_letter_depth: int
    digest: DigestView | None
    requests: list[dict[str, Any]]


def error_store(world: LocalWorld) -> list[StoredError]:
    """Every entry of the state table's error store (items `error#<day>`)."""
    assert world.stack is not None
    dynamodb = world.client("dynamodb")
    request: dict[str, Any] = {
        "TableName": world.stack.outputs["StateTableName"],
        "FilterExpression": "begins_with(pk, :error)",
        "ExpressionAttributeValues": {":error": {"S": "error#"}},
        "ConsistentRead": True,
    }
    found: list[StoredError] = []
    while True:
        page = dynamodb.scan(**request)
        for item in page.get("Items", []):
            raw = item.get("record", {}).get("S")
            record = json.loads(raw) if raw else {}
            email = record.get("email") if isinstance(record, dict) else None
            found.append(
                StoredError(
                    kind=item["kind"]["S"],
                    reason=item["reason"]["S"],
                    chat_ids=tuple(v["S"] for v in item.get("chat_ids", {}).get("L", [])),
                    email=email.strip().lower() if isinstance(email, str) else None,
                    correlation_id=item.get("correlation_id", {}).get("S"),
                    key=f"{item['pk']['S']}|{item['sk']['S']}",
                )
            )
        if "LastEvaluatedKey" not in page:
            return found
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def dead_letters(world: LocalWorld) -> list[DeadLetterView]:
    """Every message of the dead-letter queue, read and made visible again."""
    assert world.stack is not None
    sqs = world.client("sqs")
    url = world.stack.outputs["DeadLetterQueueUrl"]
    received: list[dict[str, Any]] = []
    while batch := sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=10,
        VisibilityTimeout=120,
        MessageAttributeNames=["All"],
        AttributeNames=["All"],
        WaitTimeSeconds=0,
    ).get("Messages", []):
        received.extend(batch)
    for start in range(0, len(received), 10):
        sqs.change_message_visibility_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                for i, m in enumerate(received[start : start + 10])
            ],
        )
    return [_dead_letter(message) for message in received]


def _dead_letter(message: dict[str, Any]) -> DeadLetterView:
    attributes = {
        name: value.get("StringValue", "")
        for name, value in message.get("MessageAttributes", {}).items()
    }
    try:
        body = json.loads(message.get("Body", ""))
    except ValueError:
        body = None
    emails: list[str] = []
    cause = attributes.get("error_code", "")
    correlation = attributes.get("correlation_id")
    failures: list[Any] = []
    if isinstance(body, dict):
        for record in body.get("records") or []:
            if isinstance(record, dict) and isinstance(record.get("email"), str):
                emails.append(record["email"].strip().lower())
        failures = list(body.get("failures") or [])
        if failures and isinstance(failures[-1], dict):
            cause = str(failures[-1].get("code", cause))
        correlation = body.get("correlation_id", correlation)
    return DeadLetterView(
        tuple(emails),
        cause or "unknown",
        correlation,
        attributes,
        failures,
        int(message.get("Attributes", {}).get("ApproximateReceiveCount", "0")),
    )


# "undeliverable / marketo_1003: 12 (13 occurrence(s))"
_GROUP = re.compile(r"^([a-z_]+) / (.+?): ([\d,]+) \(")
# the summary table: "  error store   undeliverable / marketo_1003   12"
_ROW = re.compile(r"^\s+(error store|dead-letter queue)\s{2,}(.+?)\s{2,}([\d,]+)\s*$")
# "dead-letter queue / HTTP 503: 2 waiting, ..."
_LETTERS = re.compile(r"^dead-letter queue / (.+?): ([\d,]+) waiting")
_DEAD_TOTAL = re.compile(r"(\d[\d,]*) dead letter|Dead-letter queue:\s*(\d[\d,]*)")


def read_digest(mail: dict[str, Any]) -> DigestView:
    """The causes and counts the digest e-mail shows, as its reader sees them (its text
    part, else its HTML without the markup)."""
    text = mail.get("text")
    if not text:
        body = str(mail.get("html") or mail.get("body") or "")
        text = html.unescape(re.sub(r"<[^>]+>", "", body))
    groups: dict[tuple[str, str], int] = {}
    causes: dict[str, int] = {}
    for line in str(text).splitlines():
        if row := _ROW.match(line):
            where, cause, count = row[1], row[2], int(row[3].replace(",", ""))
            kind, slash, reason = cause.partition(" / ")
            if where == "error store" and slash:
                groups[(kind, reason)] = count
            elif where == "dead-letter queue":
                causes[cause] = count
        elif group := _GROUP.match(line):
            groups[(group[1], group[2])] = int(group[3].replace(",", ""))
        elif letters := _LETTERS.match(line):
            causes[letters[1]] = int(letters[2].replace(",", ""))
    subject = str(mail.get("subject") or "")
    total = _DEAD_TOTAL.search(subject) or _DEAD_TOTAL.search(str(text))
    dead = int((total[1] or total[2]).replace(",", "")) if total else None
    if dead is None and "all clear" in subject:
        dead = 0
    return DigestView(subject=subject, dead_letters=dead, groups=groups, dead_letter_causes=causes)


def stored_groups(errors: list[StoredError]) -> dict[tuple[str, str], int]:
    """Distinct failures per (kind, reason): the same chats failing twice count once."""
    distinct: dict[tuple[str, str], set[tuple[str, ...]]] = {}
    for entry in errors:
        distinct.setdefault((entry.kind, entry.reason), set()).add(entry.chat_ids or (entry.key,))
    return {group: len(ids) for group, ids in distinct.items()}


# -- the accounting ---------------------------------------------------------------------
def _instant(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC).replace(microsecond=0)


def written_by_sync(lead: dict[str, Any], visitor: dict[str, Any]) -> bool:
    """The lead carries what the sync writes for this visitor's chats: their number, and
    the time of their latest thread (which may be later than the last thread the simulator
    saw the e-mail in: a chat's e-mail holds for all its threads)."""
    seen = _instant(visitor.get("last_seen"))
    written = _instant(lead.get("livechatLastChat"))
    return (
        lead.get("livechatChatCount") == len(visitor.get("chat_ids") or ())
        and seen is not None
        and written is not None
        and written >= seen
    )


def account(observed: Observed, report: ChaosReport) -> ChaosReport:
    leads_by_email: dict[str, list[dict[str, Any]]] = {}
    for lead in observed.leads:
        email = str(lead.get("email") or "").strip().lower()
        leads_by_email.setdefault(email, []).append(lead)

    _check_digest(observed, report)
    named = set(observed.digest.groups) if observed.digest is not None else set()
    dead_named = (
        observed.digest is not None
        and observed.digest.dead_letters == observed.dead_letter_depth
        and observed.dead_letter_depth > 0
    )
    undeliverable: dict[str, list[StoredError]] = {}
    for entry in observed.errors:
        if entry.kind == "undeliverable" and entry.email:
            undeliverable.setdefault(entry.email, []).append(entry)
    dead: dict[str, DeadLetterView] = {}
    for letter in observed.dead_letters:
        for email in letter.emails:
            dead.setdefault(email, letter)

    report.visitors = len(observed.visitors)
    causes: Counter[str] = Counter()
    lost_why: Counter[str] = Counter()
    for visitor in observed.visitors:
        email = str(visitor["email"]).strip().lower()
        leads = leads_by_email.get(email, [])
        if any(written_by_sync(lead, visitor) for lead in leads):
            report.delivered += 1
            continue
        entries = undeliverable.get(email, [])
        told = [e for e in entries if ("undeliverable", e.reason) in named]
        if told:
            report.reported += 1
            causes[f"error store: {told[-1].reason}"] += 1
            continue
        if email in dead and dead_named and _cause_named(observed.digest, dead[email]):
            report.reported += 1
            causes[f"dead letter: {dead[email].cause}"] += 1
            continue
        why = _why_lost(leads, entries, email in dead, report.fetched)
        lost_why[why] += 1
        report.lost_visitors.append(
            {
                "email": email,
                "why": why,
                "chat_ids": visitor.get("chat_ids"),
                "leads": [_lead_summary(lead) for lead in leads],
                "error_store": [asdict(e) for e in entries],
                "dead_letter": asdict(dead[email]) if email in dead else None,
            }
        )
    report.lost = report.visitors - report.delivered - report.reported
    report.reported_by_cause = dict(causes.most_common())
    report.lost_by_why = dict(lost_why.most_common())

    for email, leads in sorted(leads_by_email.items()):
        if len(leads) > 1:
            report.duplicated.append(
                {"email": email, "leads": [_lead_summary(lead) for lead in leads]}
            )
    report.duplicate_leads = len(report.duplicated)
    _check_protected(observed.seeded, leads_by_email, report)

    for request in observed.requests:
        if request.get("user") == NEIGHBOUR:
            continue
        codes = sorted(LIMIT_CODES.intersection(str(c) for c in request.get("errors") or ()))
        if codes:
            report.limit_errors.append(
                {k: request.get(k) for k in ("seq", "time", "action", "user", "errors")}
            )
    report.limit_errors_caused = len(report.limit_errors)
    report.faults_seen = faults_seen(observed.requests)
    report.marketo_calls = sum(
        1 for r in observed.requests if r.get("user") != NEIGHBOUR and r.get("counted")
    )

    with_visitor = {str(c) for v in observed.visitors for c in v.get("chat_ids") or ()}
    report.chats = observed.chats
    report.rejected_chats = observed.chats - len(with_visitor)
    rejected_ids = {c for e in observed.errors if e.kind == "rejected" for c in e.chat_ids}
    report.rejected_in_store = len(rejected_ids - with_visitor)
    report.error_entries = len(observed.errors)
    report.dead_letters = observed.dead_letter_depth
    report.dead_letter_details = [
        {**asdict(letter), "emails": len(letter.emails)} for letter in observed.dead_letters
    ]
    return report


def _cause_named(digest: DigestView | None, letter: DeadLetterView) -> bool:
    """The digest names the dead letter's cause (a digest listing no causes only counts)."""
    if digest is None:
        return False
    return not digest.dead_letter_causes or letter.cause in digest.dead_letter_causes


def faults_seen(requests: list[dict[str, Any]]) -> dict[str, int]:
    """What the simulator did to leadsync's calls, from its audit."""
    seen: Counter[str] = Counter()
    for request in requests:
        if request.get("user") == NEIGHBOUR:
            continue
        errors = {str(code) for code in request.get("errors") or ()}
        status = int(request.get("http_status") or 0)
        seen["http_5xx"] += status >= 500
        seen["timeouts"] += "604" in errors or status == 0
        seen["token_expired"] += bool(errors & {"601", "602"})
        seen["records_refused"] += sum(1 for code in request.get("reasons") or () if code == "1003")
    return dict(seen)


def _why_lost(
    leads: list[dict[str, Any]], entries: list[StoredError], dead: bool, fetched: bool
) -> str:
    if not fetched:
        return "never queued: every scheduled fetch failed, and nothing reports it"
    if entries:
        return "in the error store, but the digest does not name its cause"
    if dead:
        return "in a dead letter, but the digest does not show it or its cause"
    if leads:
        return "a lead exists, without the chat's values, and nothing reports why"
    return "no lead, nothing in the error store or the dead-letter queue"


def _lead_summary(lead: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "id",
        "email",
        "createdAt",
        "updatedAt",
        "leadSource",
        "country",
        "state",
        "city",
        "livechatChatCount",
        "livechatLastChat",
    )
    return {k: lead.get(k) for k in keys}


def _check_protected(
    seeded: list[dict[str, Any]],
    leads_by_email: dict[str, list[dict[str, Any]]],
    report: ChaosReport,
) -> None:
    """A lead Marketo knew before the sync keeps its lead source, and its geography."""
    for known in seeded:
        email = str(known["email"]).strip().lower()
        leads = sorted(leads_by_email.get(email, []), key=lambda lead: int(lead.get("id") or 0))
        original = leads[0] if leads else None
        protected = {"leadSource": known["leadSource"]}
        protected.update({k: v for k, v in SEEDED_GEOGRAPHY.items() if k in known})
        changed = {
            name: None if original is None else original.get(name)
            for name, value in protected.items()
            if original is None or original.get(name) != value
        }
        if changed:
            report.overwritten.append({"email": email, "was": protected, "now": changed})
    report.protected_overwritten = len(report.overwritten)


def _check_digest(observed: Observed, report: ChaosReport) -> None:
    digest = observed.digest
    report.digest_sent = digest is not None
    if digest is None:
        report.digest_problems.append("no digest e-mail was sent")
        return
    expected = stored_groups(observed.errors)
    for group in sorted(set(expected) | set(digest.groups)):
        shown, stored = digest.groups.get(group), expected.get(group)
        if shown != stored:
            report.digest_problems.append(
                f"{group[0]} / {group[1]}: the digest shows {shown}, the error store holds {stored}"
            )
    if digest.dead_letters != observed.dead_letter_depth:
        report.digest_problems.append(
            f"dead letters: the digest shows {digest.dead_letters}, "
            f"the queue holds {observed.dead_letter_depth}"
        )
    if digest.dead_letter_causes:
        held = Counter(letter.cause for letter in observed.dead_letters)
        for cause in sorted(set(held) | set(digest.dead_letter_causes)):
            if held.get(cause) != digest.dead_letter_causes.get(cause):
                report.digest_problems.append(
                    f"dead letters / {cause}: the digest shows "
                    f"{digest.dead_letter_causes.get(cause)}, the queue holds {held.get(cause)}"
                )


# -- chaos while the sync runs ----------------------------------------------------------
class _Background:
    """A loop on a thread of its own while the `with` block runs; `_run` watches `_stop`."""

    name = "chaos"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)

    def _run(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()


class Killer(_Background):
    """Every few seconds, SIGKILLs an upload environment some way into an invocation."""

    name = "chaos-killer"

    def __init__(self, pool: FunctionPool, kills: int, settings: ChaosSettings, say: Say) -> None:
        self._pool = pool
        self._kills = kills
        self._every = settings.kill_every_s
        self._rng = random.Random(f"kills-{settings.seed}")
        self._say = say
        self.sent = 0
        super().__init__()

    def _run(self) -> None:
        while self.sent < self._kills and not self._stop.wait(self._every):
            into = self._rng.uniform(0.1, 1.5)
            while not self._stop.is_set():
                pid = self._pool.kill_busy(into, self._rng)
                if pid is not None:
                    self.sent += 1
                    self._say(
                        f"killed upload process {pid} {into:.1f} s or more into its batch "
                        f"({self.sent}/{self._kills})"
                    )
                    break
                self._stop.wait(0.05)  # polling the environments until one is busy long enough


class Progress(_Background):
    """A line every few seconds while the queue drains."""

    name = "chaos-progress"

    def __init__(self, world: LocalWorld, say: Say, every_s: float = 5.0) -> None:
        self._world = world
        self._say = say
        self._every = every_s
        super().__init__()

    def _run(self) -> None:
        assert self._world.stack is not None
        sqs = self._world.client("sqs")
        names = [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ]
        last = ""
        while not self._stop.wait(self._every):
            try:
                sync = sqs.get_queue_attributes(
                    QueueUrl=self._world.stack.outputs["SyncQueueUrl"], AttributeNames=names
                )["Attributes"]
                dead = self._world.queue_depth("DeadLetterQueueUrl")
                calls = self._world.marketo_audit(limit=0).get("total_requests", 0)
            except (OSError, KeyError, ValueError) as exc:  # progress only
                self._say(f"progress unavailable: {type(exc).__name__}")
                continue
            line = (
                f"queue: visible={sync[names[0]]} in flight={sync[names[1]]} "
                f"delayed={sync[names[2]]} dead letters={dead} | marketo requests={calls}"
            )
            if line != last:
                self._say(line)
                last = line


def _fetch(world: LocalWorld, settings: ChaosSettings, report: ChaosReport, say: Say) -> int:
    """Fire the schedule until a fetch succeeds (at most `fetch_runs`); the messages queued."""
    read_dataset_from_start(world)
    for run in range(1, settings.fetch_runs + 1):
        if run > 1:
            _wait_for_the_breaker(world, say)
        report.fetch_runs = run
        say(f"the hourly schedule fires the fetch function (run {run})")
        try:
            fetched = world.fire_schedule("FetchFunction").result
        except InvocationError as exc:
            report.fetch_failures.append(str(exc))
            say(f"the fetch failed: {exc}")
            continue
        report.fetched = True
        say(
            f"fetch: chats={fetched['chats']} visitors={fetched['visitors']} "
            f"rejected={fetched['rejected']} creates={fetched['creates']} "
            f"updates={fetched['updates']} unchanged={fetched['unchanged']} "
            f"messages={fetched['messages']}"
        )
        return int(fetched["messages"])
    say(f"no fetch succeeded in {settings.fetch_runs} scheduled runs")
    return 0


def _wait_for_the_breaker(world: LocalWorld, say: Say) -> None:
    """The next hourly run finds Marketo's circuit breaker (an item of the state table
    every function shares) cooled down: wait until it has, rather than for an hour."""
    assert world.stack is not None
    env = world.functions["FetchFunction"].environment
    cooldown_ms = int(env.get("BREAKER_COOLDOWN_SECONDS", "60")) * 1000
    dynamodb = world.client("dynamodb")
    deadline = time.monotonic() + cooldown_ms / 1000 + 30
    said = False
    while time.monotonic() < deadline:
        item = dynamodb.get_item(
            TableName=world.stack.outputs["StateTableName"],
            Key={"pk": {"S": "breaker#marketo"}, "sk": {"S": "state"}},
            ConsistentRead=True,
        ).get("Item", {})
        closes_ms = int(item.get("opened_ms", {}).get("N", "0")) + cooldown_ms
        if item.get("state", {}).get("S") != "open" or time.time() * 1000 >= closes_ms:
            return
        if not said:
            say("Marketo's circuit breaker is open: the next run comes once it has cooled down")
            said = True
        time.sleep(0.5)  # polling the breaker's item, bounded by the deadline


def _digest(world: LocalWorld, say: Say) -> DigestView | None:
    say("the daily schedule fires the digest function")
    try:
        summary = world.fire_schedule("DigestFunction").result
    except InvocationError as exc:
        say(f"the digest failed: {exc}")
        return None
    say(f"digest: {json.dumps(summary, default=str)}")
    mails = world.sent_emails()
    if not mails:
        return None
    view = read_digest(mails[-1])
    say(f"digest e-mail: {view.subject!r}")
    return view


def run(settings: ChaosSettings, say: Say = lambda _: None) -> ChaosReport:
    started = time.monotonic()
    report = ChaosReport()
    shutil.rmtree(settings.state_dir / "logs", ignore_errors=True)
    say(
        f"starting the local world: {settings.visitors} visitors, "
        f"faults {'on' if settings.faults else 'off'}, "
        f"upload timeout {settings.upload_timeout_s} s, "
        f"queue visibility {settings.visibility_s} s"
    )
    with LocalWorld(settings.world_options()) as world:
        seeded = seed_known_visitors(world)
        report.seeded = len(seeded)
        say(
            f"Marketo already knows {len(seeded)} of the visitors "
            f"({sum(1 for lead in seeded if 'country' in lead)} with geography set)"
        )
        first = int(world.marketo_audit(limit=0).get("total_requests", 0))
        messages = _fetch(world, settings, report, say)
        kills = settings.kills if settings.kills is not None else max(3, min(8, messages // 8))
        say(
            f"the SQS event source mapping feeds the upload; an upload process is killed "
            f"every {settings.kill_every_s:g} s ({kills} times)"
        )
        pool = world.pool("UploadFunction")
        with Killer(pool, kills, settings, say) as killer, Progress(world, say):
            drained = world.drain_queue(
                "UploadFunction", wait_in_flight=True, deadline_s=settings.deadline_s
            )
        report.kills_sent = killer.sent
        report.kills_mid_invocation = pool.interrupted
        report.invocations = drained.invocations
        report.failed_invocations = len(drained.errors)
        report.messages_left = world.queue_depth("SyncQueueUrl")
        say(
            f"upload: invocations={drained.invocations} failed={len(drained.errors)} "
            f"(killed mid-batch={pool.interrupted}) messages left={report.messages_left}"
        )
        for error, count in Counter(_short(e) for e in drained.errors).most_common(8):
            say(f"upload failure x{count}: {error}")
        digest = _digest(world, say)
        say("accounting for every visitor")
        observed = Observed(
            visitors=world.livechat_visitors(),
            chats=world.livechat_chat_count(),
            leads=world.marketo_leads(),
            seeded=seeded,
            errors=error_store(world),
            dead_letters=dead_letters(world),
            dead_letter_depth=world.queue_depth("DeadLetterQueueUrl"),
            digest=digest,
            requests=list(world.marketo_audit(since=first, limit=10_000_000)["requests"]),
        )
        account(observed, report)
    report.seconds = time.monotonic() - started
    _summary(report, say)
    path = settings.state_dir / "report.json"
    path.write_text(json.dumps(asdict(report), indent=1, default=str), encoding="utf-8")
    say(f"details: {path}")
    return report


def _short(error: str) -> str:
    return re.sub(r"\d+", "N", error)[:160]


def _summary(report: ChaosReport, say: Say) -> None:
    say(
        f"chats={report.chats} rejected={report.rejected_chats} "
        f"(in the error store as rejected: {report.rejected_in_store}) "
        f"error entries={report.error_entries} dead letters={report.dead_letters} "
        f"marketo calls={report.marketo_calls} fetch runs={report.fetch_runs} "
        f"kills={report.kills_sent} (mid-batch: {report.kills_mid_invocation}) "
        f"seconds={round(report.seconds)}"
    )
    say(f"faults marketo dealt leadsync's calls: {json.dumps(report.faults_seen)}")
    say(
        "digest agrees with the stores"
        if report.digest_agrees
        else f"digest disagrees: {'; '.join(report.digest_problems[:5])}"
    )
    for cause, count in report.reported_by_cause.items():
        say(f"reported x{count}: {cause}")
    for why, count in report.lost_by_why.items():
        say(f"lost x{count}: {why}")
    for lost in report.lost_visitors[:5]:
        say(f"lost: {lost['email']}: {lost['why']}")
    for duplicate in report.duplicated[:5]:
        say(f"duplicate: {duplicate['email']}: {len(duplicate['leads'])} leads")
    for overwritten in report.overwritten[:5]:
        say(f"overwritten: {overwritten['email']}: {overwritten['now']}")
    for error in report.limit_errors[:5]:
        say(f"limit error: {error}")
    for letter in report.dead_letter_details[:5]:
        notes = letter["failures"][-1:] or letter["attributes"]
        say(
            f"dead letter: cause={letter['cause']} records={letter['emails']} "
            f"receives={letter['receive_count']} last failure={json.dumps(notes, default=str)}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make chaos", description=__doc__)
    defaults = ChaosSettings()
    parser.add_argument("--visitors", type=int, default=defaults.visitors)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--kills", type=int, default=None, help="upload kills (default: 1 per 8 messages, 3-8)"
    )
    parser.add_argument(
        "--kill-every", type=float, default=defaults.kill_every_s, help="seconds between kills"
    )
    parser.add_argument(
        "--upload-timeout", type=int, default=defaults.upload_timeout_s, help="seconds"
    )
    parser.add_argument(
        "--visibility", type=int, default=defaults.visibility_s, help="queue visibility, seconds"
    )
    parser.add_argument("--fetch-runs", type=int, default=defaults.fetch_runs)
    parser.add_argument(
        "--records-per-call", type=int, default=None, help="records per Marketo call (300)"
    )
    parser.add_argument(
        "--deadline", type=float, default=defaults.deadline_s, help="seconds the drain may take"
    )
    parser.add_argument(
        "--calm", action="store_true", help="no Marketo faults and no kills (a baseline)"
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 unless lost, duplicate_leads and protected_overwritten are 0",
    )
    args = parser.parse_args(argv)
    settings = ChaosSettings(
        visitors=args.visitors,
        seed=args.seed,
        kills=0 if args.calm else args.kills,
        kill_every_s=args.kill_every,
        upload_timeout_s=args.upload_timeout,
        visibility_s=args.visibility,
        fetch_runs=args.fetch_runs,
        deadline_s=args.deadline,
        faults=not args.calm,
        records_per_call=args.records_per_call,
    )
    report = run(settings, say=lambda line: print(f"    {line}", flush=True))
    print(report.line(), flush=True)
    failed = report.lost or report.duplicate_leads or report.protected_overwritten
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    sys.exit(main())
