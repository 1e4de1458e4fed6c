"""The limiter's DynamoDB item: decoding it, and the update expressions that change it.

Item layout (one item, pk="limiter#<name>", sk="state", no expires_at: it must never expire):
    version N, tokens_milli N, refilled_at_ms N, day S, used_today N, factor_milli N,
    last_cut_ms N, penalties N, penalties_folded N, successes N, successes_folded N,
    leases M {lease_id: N expires_at_ms}, instance_day S, instance_total N, instance_ours N,
    quota_exhausted_day S, usage_checked_ms N
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any

from leadsync.limiter.api import Outcome
from leadsync.limiter.state import LimiterState

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

    Item = Mapping[str, AttributeValueTypeDef]

SORT_KEY = "state"
_STRINGS = frozenset({"day", "instance_day", "quota_exhausted_day"})
# Written by every acquire under the version lock (leases and used_today are handled apart).
_ACQUIRE_SCALARS = (
    "version",
    "tokens_milli",
    "refilled_at_ms",
    "factor_milli",
    "last_cut_ms",
    "penalties_folded",
    "successes_folded",
)


def key(name: str) -> dict[str, AttributeValueTypeDef]:
    return {"pk": {"S": f"limiter#{name}"}, "sk": {"S": SORT_KEY}}


def decode(item: Item | None) -> LimiterState:
    """The state an item holds; absent attributes (or no item at all) take their defaults."""
    if not item:
        return LimiterState()
    values: dict[str, Any] = {}
    for attribute in fields(LimiterState):
        raw = item.get(attribute.name)
        if raw is None:
            continue
        if attribute.name == "leases":
            values["leases"] = {k: int(v["N"]) for k, v in raw.get("M", {}).items()}
        elif attribute.name in _STRINGS:
            values[attribute.name] = raw["S"]
        else:
            values[attribute.name] = int(raw["N"])
    return LimiterState(**values)


@dataclass
class Update:
    """One UpdateItem's expressions, with placeholders for every name and value (several of
    the attribute names, such as `day`, are DynamoDB reserved words)."""

    condition: str = ""
    sets: list[str] = field(default_factory=list)
    removes: list[str] = field(default_factory=list)
    adds: list[str] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, AttributeValueTypeDef] = field(default_factory=dict)

    def name(self, *path: str) -> str:
        placeholders = []
        for part in path:
            placeholder = f"#n{len(self.names)}"
            for existing, text in self.names.items():
                if text == part:
                    placeholder = existing
                    break
            self.names[placeholder] = part
            placeholders.append(placeholder)
        return ".".join(placeholders)

    def value(self, value: int | str | Mapping[str, int]) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = _encode(value)
        return placeholder

    def expression(self) -> str:
        clauses = [
            f"{verb} {', '.join(parts)}"
            for verb, parts in (("SET", self.sets), ("REMOVE", self.removes), ("ADD", self.adds))
            if parts
        ]
        return " ".join(clauses)


def _encode(value: int | str | Mapping[str, int]) -> AttributeValueTypeDef:
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, int):
        return {"N": str(value)}
    return {"M": {k: {"N": str(v)} for k, v in value.items()}}


def acquire_update(old: LimiterState, new: LimiterState) -> Update:
    """Write `new` over `old` if nobody else acquired since `old` was read.

    Leases and used_today are changed piecewise (SET/REMOVE one lease, ADD 1), never
    overwritten, so a release that slipped in between (blind, no version bump) survives."""
    update = Update()
    for attribute in _ACQUIRE_SCALARS:
        update.sets.append(f"{update.name(attribute)} = {update.value(getattr(new, attribute))}")
    if old.version == 0:
        update.condition = f"attribute_not_exists({update.name('version')})"
        update.sets.append(f"{update.name('leases')} = {update.value(new.leases)}")
    else:
        update.condition = f"{update.name('version')} = {update.value(old.version)}"
        for lease in new.leases.keys() - old.leases.keys():
            path = update.name("leases", lease)
            update.sets.append(f"{path} = {update.value(new.leases[lease])}")
        for lease in old.leases.keys() - new.leases.keys():
            update.removes.append(update.name("leases", lease))
    if old.version == 0 or new.day != old.day:
        update.sets.append(f"{update.name('day')} = {update.value(new.day)}")
        update.sets.append(f"{update.name('used_today')} = {update.value(new.used_today)}")
    else:
        delta = new.used_today - old.used_today
        update.adds.append(f"{update.name('used_today')} {update.value(delta)}")
    return update


def release_update(
    lease_id: str, outcome: Outcome, quota_day: str, refund_day: str | None
) -> Update:
    """Blind: drop the lease and count the outcome; no read-modify-write, no version bump.

    `refund_day`: give back the call to used_today, only if the counter still counts that
    day (the condition fails if the day turned meanwhile)."""
    update = Update()
    leases = update.name("leases")
    update.condition = f"attribute_exists({leases})"
    update.removes.append(update.name("leases", lease_id))
    if outcome is Outcome.DONE:
        update.adds.append(f"{update.name('successes')} {update.value(1)}")
    elif outcome in (Outcome.RATE_LIMITED, Outcome.CONCURRENCY_LIMITED):
        update.adds.append(f"{update.name('penalties')} {update.value(1)}")
    elif outcome is Outcome.QUOTA_EXHAUSTED:
        update.sets.append(f"{update.name('quota_exhausted_day')} = {update.value(quota_day)}")
    if refund_day is not None:
        update.condition += f" AND {update.name('day')} = {update.value(refund_day)}"
        update.adds.append(f"{update.name('used_today')} {update.value(-1)}")
    return update


def usage_update(total: int, day: str, *, same_day: bool) -> Update:
    """Record the instance's usage; `instance_ours` snapshots our own counter in the same
    write (same_day: the item counts `day`) or is 0 (it counts another day, or nothing)."""
    update = Update()
    update.sets.append(f"{update.name('instance_total')} = {update.value(total)}")
    update.sets.append(f"{update.name('instance_day')} = {update.value(day)}")
    ours, stored_day = update.name("instance_ours"), update.name("day")
    if same_day:
        update.sets.append(f"{ours} = {update.name('used_today')}")
        update.condition = f"{stored_day} = {update.value(day)}"
    else:
        update.sets.append(f"{ours} = {update.value(0)}")
        update.condition = (
            f"attribute_not_exists({stored_day}) OR {stored_day} <> {update.value(day)}"
        )
    return update


def usage_claim_update(now_ms: int, every_ms: int) -> Update:
    """Take the turn to read the instance's usage: holds only if nobody took it in the last
    `every_ms`, so of all the copies that find it due at once, exactly one reads."""
    update = Update()
    checked = update.name("usage_checked_ms")
    update.sets.append(f"{checked} = {update.value(now_ms)}")
    update.condition = (
        f"attribute_not_exists({checked}) OR {checked} <= {update.value(now_ms - every_ms)}"
    )
    return update
