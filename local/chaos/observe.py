"""What the chaos run reads back: the error store, the dead-letter queue, the digest mail."""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from local.world import LocalWorld


@dataclass(frozen=True)
class StoredError:
    kind: str
    reason: str
    chat_ids: tuple[str, ...]
    email: str | None
    correlation_id: str | None
    key: str
    at: str = ""  # when it last failed (ISO), to tell which day's digest it belongs to


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
    # the totals table: per day shown ("2026-12-05", "(so far)" dropped), per row label
    totals: dict[str, dict[str, int]] = field(default_factory=dict)
    complete_days: frozenset[str] = frozenset()  # days the digest shows as ended


@dataclass
class Observed:
    visitors: list[dict[str, Any]]
    chats: int
    leads: list[dict[str, Any]]
    seeded: list[dict[str, Any]]
    errors: list[StoredError]
    dead_letters: list[DeadLetterView]
    dead_letter_depth: int
    # the last digest, and every day's: (the digest, the window it covered)
    digest: DigestView | None
    requests: list[dict[str, Any]]
    days: list[DayDigest] = field(default_factory=list)


@dataclass(frozen=True)
class DayDigest:
    day: str
    view: DigestView | None
    since: str | None  # ISO; None: from the beginning
    until: str
    dead_letters_then: int


def instant(value: Any) -> datetime | None:
    """An ISO time read back (a trailing Z allowed), in UTC to the second; None when absent
    or unreadable."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.astimezone(UTC).replace(microsecond=0)


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
                    at=item.get("last_failure_at", {}).get("S", ""),
                )
            )
        if "LastEvaluatedKey" not in page:
            return found
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def bulk_jobs(world: LocalWorld) -> dict[str, int]:
    """The bulk jobs by how they ended (`done`, `failed`, `rerouted`, ...), and of those
    rerouted, how many Marketo imported late after all (`imported_late`)."""
    assert world.stack is not None
    pages = (
        world.client("dynamodb")
        .get_paginator("query")
        .paginate(
            TableName=world.stack.outputs["StateTableName"],
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "bulk#job"}},
            ConsistentRead=True,
        )
    )
    outcomes: dict[str, int] = {}
    for page in pages:
        for item in page.get("Items", []):
            job = json.loads(item["job"]["S"])
            for key in (job["status"], "imported_late" if job.get("imported_late_at") else ""):
                if key:
                    outcomes[key] = outcomes.get(key, 0) + 1
    return dict(sorted(outcomes.items()))


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


_DAY = re.compile(r"(\d{4}-\d{2}-\d{2})( \(so far\))?")
_TOTAL_ROWS = ("Chats read", "Leads created", "Leads updated", "Leads imported", "Marketo calls")


def read_totals(text: str) -> tuple[dict[str, dict[str, int]], frozenset[str]]:
    """The digest's totals table (text part): {day: {row label: value}}, and the days it
    shows as complete."""
    lines = text.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.startswith("TOTALS"))
    except StopIteration:
        return {}, frozenset()
    header = lines[start + 1] if start + 1 < len(lines) else ""
    found = _DAY.findall(header)
    days = [day for day, _ in found]
    complete = frozenset(day for day, so_far in found if not so_far)
    totals: dict[str, dict[str, int]] = {day: {} for day in days}
    for line in lines[start + 2 :]:
        label = line[2:18].strip()
        if not line.startswith("  ") or label not in _TOTAL_ROWS:
            continue
        values = line[18:].split()
        for day, value in zip(days, values, strict=False):
            totals[day][label] = int(value.replace(",", ""))
    return totals, complete


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
    totals, complete = read_totals(str(text)) if mail.get("text") else ({}, frozenset())
    return DigestView(
        subject=subject,
        dead_letters=dead,
        groups=groups,
        dead_letter_causes=causes,
        totals=totals,
        complete_days=complete,
    )


def stored_groups(errors: list[StoredError]) -> dict[tuple[str, str], int]:
    """Distinct failures per (kind, reason): the same chats failing twice count once."""
    distinct: dict[tuple[str, str], set[tuple[str, ...]]] = {}
    for entry in errors:
        distinct.setdefault((entry.kind, entry.reason), set()).add(entry.chat_ids or (entry.key,))
    return {group: len(ids) for group, ids in distinct.items()}
