"""Field by field: what a visitor would change in Marketo, under the field map's policies.

Pure. Marketo has no "update only if empty": every protection is decided here, from the values
a lookup returned. A visitor whose write would change nothing costs no write.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from leadsync.mapping.fieldmap import KEY_FIELD, FieldMap, Policy
from leadsync.models import Visitor

Scalar = str | int | float | bool
UPDATED_AT = "updatedAt"


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class WriteDecision:
    action: Action
    lead_id: int | None = None
    fields: dict[str, Scalar] = field(default_factory=dict)
    # destination fields whose differing Marketo value a policy kept
    protected: tuple[str, ...] = ()


def _joined(items: list[str], max_length: int) -> str | None:
    """Items joined with ", ", as many whole items as fit (a first item too long is cut)."""
    kept: list[str] = []
    size = 0
    for item in filter(None, items):
        extra = len(item) + (2 if kept else 0)
        if size + extra > max_length:
            if not kept:
                kept.append(item[:max_length].strip())
            break
        kept.append(item)
        size += extra
    return ", ".join(kept) or None


def marketo_value(value: object, max_length: int) -> Scalar | None:
    """A canonical value as Marketo takes it; None and empty text are no value."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, list | tuple):
        return _joined([str(item).strip() for item in value], max_length)
    if isinstance(value, bool | int | float):
        return value
    text = str(value).strip()[:max_length].strip()
    return text or None


def candidate(visitor: Visitor, fmap: FieldMap) -> dict[str, Scalar]:
    """Every mapped field that has a value: what a new lead gets."""
    out: dict[str, Scalar] = {}
    for name, rule in fmap.fields.items():
        raw = rule.value if rule.source is None else getattr(visitor, rule.source)
        value = marketo_value(raw, rule.max_length)
        if value is not None:
            out[name] = value
    return out


def decide(
    values: Mapping[str, Scalar],
    lead: tuple[int, Mapping[str, object]] | None,
    fmap: FieldMap,
    last_chat_at: datetime | None,
) -> WriteDecision:
    """Create when there is no lead; else only the fields the policies let change."""
    if lead is None:
        return WriteDecision(Action.CREATE, fields=dict(values))
    lead_id, theirs = lead
    changes: dict[str, Scalar] = {}
    protected: list[str] = []
    updated_at = _instant(theirs.get(UPDATED_AT))
    for name, ours in values.items():
        rule = fmap.fields.get(name)
        if name == KEY_FIELD or rule is None:
            continue
        current = theirs.get(name)
        if same(ours, current):
            continue
        if _may_write(rule.policy, ours, current, updated_at, last_chat_at):
            changes[name] = ours
        elif not empty(current):
            protected.append(name)
    action = Action.UPDATE if changes else Action.UNCHANGED
    return WriteDecision(action, lead_id, changes, tuple(protected))


def _may_write(
    policy: Policy,
    ours: Scalar,
    current: object,
    updated_at: datetime | None,
    last_chat_at: datetime | None,
) -> bool:
    if policy is Policy.NEVER:
        return False
    if empty(current) or policy is Policy.ALWAYS:
        return True
    if policy is Policy.IF_EMPTY:
        return False
    if policy is Policy.NEWEST_WINS:
        return updated_at is None or (last_chat_at is not None and last_chat_at > updated_at)
    return _greater(ours, current)


def empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def same(ours: Scalar, theirs: object) -> bool:
    """Equal as Marketo would store them: instants by time, numbers by value, text trimmed."""
    if empty(theirs):
        return False
    if isinstance(ours, bool) or isinstance(theirs, bool):
        return str(ours).lower() == str(theirs).lower()
    if isinstance(ours, int | float):
        number = _number(theirs)
        return number is not None and float(ours) == number
    mine, other = _instant(ours), _instant(theirs)
    if mine is not None and other is not None:
        return mine == other
    return str(ours).strip() == str(theirs).strip()


def _greater(ours: Scalar, theirs: object) -> bool:
    if isinstance(ours, int | float) and not isinstance(ours, bool):
        number = _number(theirs)
        return number is None or float(ours) > number
    mine, other = _instant(ours), _instant(theirs)
    if mine is not None:
        return other is None or mine > other
    return str(ours) > str(theirs)


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).strip())
    except ValueError:
        return None


def _instant(value: object) -> datetime | None:
    """A datetime from Marketo's ISO text (or ours), to the second; None if not one."""
    if isinstance(value, datetime):
        stamp = value
    elif isinstance(value, str) and len(value) >= 19 and value[4:5] == "-" and "T" in value:
        try:
            stamp = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.astimezone(UTC).replace(microsecond=0)
