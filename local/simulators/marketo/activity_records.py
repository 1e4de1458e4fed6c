"""Activity records: Add Custom Activities (write-once, no idempotency key), Get Paging Token
and Get Lead Activities (read back by date), Get Activity Types (activities.md,
paging-tokens.md)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from .activity_model import Activity, Attribute, TypeVersion
from .activity_standard import STANDARD_TYPE_IDS, standard_types
from .activity_store import Position
from .context import CallContext, Services
from .envelope import ApiError, reason
from .fielddefs import FieldDef
from .http_io import Request
from .leads import json_object
from .paging import batch_size
from .schema import InvalidValue, normalize

REQUIRED = ("leadId", "activityDate", "activityTypeId", "primaryAttributeValue", "attributes")
MAX_TYPE_IDS = 10
MAX_LEAD_IDS = 30
# activities.md: from 2026-12-30 a listId of 10,000 leads or more fails with 1003
LIST_LIMIT_FROM = datetime(2026, 12, 30, tzinfo=UTC).timestamp()
LIST_LIMIT = 10000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# an attribute's dataType as a lead field type, for the value checks leads get
_AS_FIELD = {"link": "url"}
_SHORT = frozenset({"string", "link", "email", "phone"})

Problem = dict[str, str]


# -- add -------------------------------------------------------------------------------------
def add(svc: Services, ctx: CallContext) -> dict[str, Any]:
    """Each record added or skipped (`errors`, as activities.md's example), in input order."""
    ctx.action = "activities:add"
    records = ctx.counted_input(json_object(ctx).get("input"), svc.config.records_per_call)
    now = svc.clock.now()
    out: list[dict[str, Any]] = []
    for raw in records:
        made = _activity(svc, raw, now)
        if isinstance(made, Activity):
            svc.activities.add(made)
            out.append({"id": made.id, "marketoGUID": made.guid, "status": "added"})
        else:
            out.append({"status": "skipped", "errors": [made]})
    return ctx.ok(out)


def _activity(svc: Services, raw: Any, now: float) -> Activity | Problem:
    if not isinstance(raw, dict):
        return reason("1003", "Invalid activity record")
    for key in REQUIRED:
        if raw.get(key) is None:
            return reason("1003", f"Missing value for required member '{key}'")
    type_id, lead_id = _integer(raw["activityTypeId"]), _integer(raw["leadId"])
    if type_id is None or lead_id is None:
        key = "activityTypeId" if type_id is None else "leadId"
        return reason("1003", f"Invalid {key} '{raw[key]}'")
    try:
        date_ms = instant_ms(raw["activityDate"], svc.limits.tz)
    except ValueError:
        return reason("1003", f"Invalid activityDate '{raw['activityDate']}'")
    if not isinstance(raw["attributes"], list):
        return reason("1003", "attributes must be a list")
    found = svc.activities.by_id(type_id)
    if found is None:
        return reason("1013", f"Activity type '{type_id}' not found")
    version = found.approved
    if version is None or version.primary is None:
        return reason("1003", f"Activity type '{found.api_name}' is not approved")
    if svc.store.get(lead_id) is None:
        return reason("1004", f"Lead '{lead_id}' not found")
    checked = _checked(svc, version, raw)
    if not isinstance(checked, tuple):
        return checked
    rejected = svc.faults.record_reject()
    if rejected is not None:
        return reason(rejected)
    primary_value, attributes = checked
    return Activity(
        svc.activities.activity_id(),
        lead_id,
        date_ms,
        found.id,
        found.api_name,
        primary_value,
        version.primary.id,
        attributes,
        now,
    )


def _checked(
    svc: Services, version: TypeVersion, raw: dict[str, Any]
) -> tuple[str, tuple[tuple[str, str, Any], ...]] | Problem:
    """(primary value as text, attributes) or why the record is skipped."""
    size = len(json.dumps(raw["attributes"], separators=(",", ":")).encode("utf-8"))
    if size > svc.config.max_activity_attributes_bytes:
        return reason("1049", f"Attributes array too long ({size} bytes)")
    values: dict[int, tuple[str, str, Any]] = {}
    for item in raw["attributes"]:
        if not isinstance(item, dict) or "value" not in item:
            return reason("1003", "Invalid attribute: {apiName or name, value}")
        attribute = _attribute(version, item)
        if attribute is None:
            return reason("1006", f"Field '{item.get('apiName') or item.get('name')}' not found")
        try:
            value = normalize(_field(attribute), item["value"])
        except InvalidValue as exc:
            return reason("1003", str(exc))
        values[attribute.id] = (attribute.api_name, attribute.name, value)
    assert version.primary is not None
    try:
        primary = normalize(_field(version.primary), raw["primaryAttributeValue"])
    except InvalidValue as exc:
        return reason("1003", str(exc))
    text = primary if isinstance(primary, str) else json.dumps(primary)
    return text, tuple(values.values())


def _attribute(version: TypeVersion, item: dict[str, Any]) -> Attribute | None:
    """A secondary attribute by exact apiName, else by exact name."""
    key, name = item.get("apiName"), item.get("name")
    for attribute in version.attributes:
        if (key is not None and attribute.api_name == key) or (
            key is None and attribute.name == name
        ):
            return attribute
    return None


def _field(attribute: Attribute) -> FieldDef:
    kind = attribute.data_type
    return FieldDef(attribute.api_name, _AS_FIELD.get(kind, kind), 255 if kind in _SHORT else None)


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


# -- read back -------------------------------------------------------------------------------
def paging_token(svc: Services, ctx: CallContext) -> dict[str, Any]:
    """`{nextPageToken}` standing at `sinceDatetime` (swagger ResponseOfVoid: no result)."""
    ctx.action = "activities:pagingtoken"
    raw = ctx.request.param("sinceDatetime")
    if not raw:
        raise ApiError("1003", "sinceDatetime is required")
    try:
        since = instant_ms(raw, svc.limits.tz)
    except ValueError:
        raise ApiError("1003", f"Invalid sinceDatetime '{raw}'") from None
    body = ctx.ok([], nextPageToken=encode_position((since, 0)))
    del body["result"]
    return body


def read(svc: Services, ctx: CallContext) -> dict[str, Any]:
    """Activities of the given types from the token's position on, oldest first. The answer
    always carries a new `nextPageToken`; `result` is left out when nothing was found."""
    ctx.action = "activities:read"
    req = ctx.request
    token = req.param("nextPageToken")
    if not token:
        raise ApiError("1003", "nextPageToken is required")
    position = decode_position(token)
    type_ids = _ids(req, "activityTypeIds", MAX_TYPE_IDS)
    if not type_ids:
        raise ApiError("1003", "activityTypeIds is required")
    known = STANDARD_TYPE_IDS | {t.id for t in svc.activities.types() if t.approved}
    unknown = sorted(set(type_ids) - known)
    if unknown:
        raise ApiError("1003", f"Invalid activityTypeIds: {', '.join(map(str, unknown))}")
    lead_ids = _lead_filter(svc, req)
    asset_ids = _ids(req, "assetIds", svc.config.filter_values_per_call)
    if asset_ids and len(type_ids) != 1:
        raise ApiError("1003", "assetIds can only be used with a single activity type")
    items, more, after = svc.activities.read(
        position,
        set(type_ids),
        lead_ids,
        set(asset_ids) or None,
        batch_size(req.param("batchSize")),
    )
    ctx.records = len(items)
    body = ctx.ok([a.record() for a in items], nextPageToken=encode_position(after))
    body["moreResult"] = more
    if not items:
        del body["result"]
    return body


def _lead_filter(svc: Services, req: Request) -> set[int] | None:
    lead_ids = _ids(req, "leadIds", MAX_LEAD_IDS)
    raw_list = req.param("listId")
    if raw_list is None or raw_list == "":
        return set(lead_ids) if lead_ids else None
    if lead_ids:
        raise ApiError("1003", "Use either listId or leadIds, not both")
    try:
        list_id = int(raw_list)
    except ValueError:
        raise ApiError("1003", f"Invalid listId '{raw_list}'") from None
    if not svc.store.has_list(list_id):
        raise ApiError("1013", f"Static list '{list_id}' not found")
    members = svc.store.members(list_id)
    if len(members) >= LIST_LIMIT and svc.clock.now() >= LIST_LIMIT_FROM:
        raise ApiError("1003", f"Static list '{list_id}' has {LIST_LIMIT} leads or more")
    return set(members)


def _ids(req: Request, name: str, most: int) -> list[int]:
    values = req.csv_param(name)
    try:
        ids = [int(v) for v in values]
    except ValueError:
        raise ApiError("1003", f"Invalid {name} '{','.join(values)}'") from None
    if len(ids) > most:
        raise ApiError("1003", f"Too many {name}, max {most}")
    return ids


def activity_types(svc: Services, ctx: CallContext) -> dict[str, Any]:
    """Standard types, then approved custom types (not marked as custom)."""
    ctx.action = "activity_types:all"
    items = standard_types() + [t.listed() for t in svc.activities.types() if t.approved]
    ctx.records = len(items)
    return ctx.ok(items)


# -- instants and tokens ---------------------------------------------------------------------
def instant_ms(value: Any, tz: tzinfo) -> int:
    """An ISO 8601 date-time in ms since the epoch; without an offset, in the instance's time
    zone. ValueError when it is not one."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(value)
    stamp = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=tz)
    return (stamp - _EPOCH) // timedelta(milliseconds=1)


def encode_position(position: Position) -> str:
    """Like Marketo's date tokens: base32 of `<date>,<last activity id>`."""
    ms, last = position
    stamp = (_EPOCH + timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]
    return base64.b32encode(f"{stamp}+0000,{last}".encode()).decode("ascii")


def decode_position(token: str) -> Position:
    try:
        padded = token + "=" * (-len(token) % 8)
        stamp, last = base64.b32decode(padded).decode("utf-8").split(",")
        when = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z")
        return (when - _EPOCH) // timedelta(milliseconds=1), int(last)
    except (ValueError, UnicodeDecodeError):
        raise ApiError("1003", f"Invalid nextPageToken '{token}'") from None
