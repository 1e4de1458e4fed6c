"""What the custom activity metadata routes accept: type bodies and attribute records, checked
as activities.md states (an invalid one is refused as a whole, call-level 1003)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any

from .activity_model import DATA_TYPES, Attribute, TypeVersion
from .envelope import ApiError

# "alphanumeric characters (maximum length of 255)", "containing at least one letter"
_API_NAME = re.compile(r"[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*")
MAX_API_NAME = 255
# display names: "alphanumeric characters, spaces and underscores", at least one letter
_DISPLAY_NAME = re.compile(r"[A-Za-z0-9_ ]*[A-Za-z][A-Za-z0-9_ ]*")
# swagger CustomActivityTypeRequest and CustomActivityTypeAttribute
TYPE_KEYS = frozenset({"apiName", "name", "description", "triggerName", "filterName"})
TYPE_KEYS |= {"primaryAttribute"}
ATTRIBUTE_KEYS = frozenset({"apiName", "name", "dataType", "description", "isPrimary"})

NewId = Callable[[], int]


def known_keys(raw: dict[str, Any], allowed: frozenset[str], what: str) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ApiError("1003", f"Invalid {what} member '{unknown[0]}'")


def api_name(value: Any, what: str = "apiName") -> str:
    if not isinstance(value, str) or not value:
        raise ApiError("1003", f"{what} is required")
    if len(value) > MAX_API_NAME or not _API_NAME.fullmatch(value):
        message = f"Invalid {what} '{value}': letters and digits, at least one letter, ≤255"
        raise ApiError("1003", message)
    return value


def text(raw: dict[str, Any], key: str, what: str = "") -> str:
    value = raw.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ApiError("1003", f"{what}{key} is required")
    return value.strip()


def description(raw: dict[str, Any], current: str | None) -> str | None:
    if "description" not in raw:
        return current
    value = raw["description"]
    if value is not None and not isinstance(value, str):
        raise ApiError("1003", "Invalid description")
    return value


def version(body: dict[str, Any], base: TypeVersion | None, new_id: NewId) -> TypeVersion:
    """The type definition a create (no `base`) or an update body asks for."""
    known_keys(body, TYPE_KEYS, "activity type")

    def member(key: str, current: str | None) -> str:
        if key in body or current is None:
            return text(body, key)
        return current

    name = member("name", base.name if base else None)
    if not _DISPLAY_NAME.fullmatch(name):
        message = f"Invalid name '{name}': letters, digits, spaces and '_', at least one letter"
        raise ApiError("1003", message)
    trigger = member("triggerName", base.trigger_name if base else None)
    filter_name = member("filterName", base.filter_name if base else None)
    primary = base.primary if base else None
    if "primaryAttribute" in body or base is None:
        primary = _primary(body.get("primaryAttribute"), primary, new_id)
    attributes = base.attributes if base else ()
    if primary is not None and any(_same(a, primary) for a in attributes):
        raise ApiError("1017", f"Attribute '{primary.api_name}' already exists")
    made = TypeVersion(name, trigger, filter_name, primary, attributes)
    return dataclasses.replace(
        made, description=description(body, base.description if base else None)
    )


def _primary(raw: Any, current: Attribute | None, new_id: NewId) -> Attribute:
    """The primary attribute of a create or an update: on an update, members left out keep
    their value when the apiName is the current primary's (or left out too)."""
    if not isinstance(raw, dict):
        raise ApiError("1003", "primaryAttribute is required")
    known_keys(raw, ATTRIBUTE_KEYS, "primaryAttribute")
    if raw.get("isPrimary") is False:
        raise ApiError("1003", "primaryAttribute cannot have isPrimary false")
    same = current is not None and raw.get("apiName") in (None, current.api_name)
    if current is not None and same:
        return _changed(current, {**raw, "apiName": current.api_name}, "primaryAttribute.")
    made = Attribute(
        new_id(),
        api_name(raw.get("apiName"), "primaryAttribute.apiName"),
        text(raw, "name", "primaryAttribute."),
        data_type(raw.get("dataType", "string")),
    )
    return dataclasses.replace(made, description=description(raw, None))


def data_type(value: Any) -> str:
    if not isinstance(value, str) or value not in DATA_TYPES:
        raise ApiError(
            "1003", f"Invalid dataType '{value}': one of {', '.join(sorted(DATA_TYPES))}"
        )
    return str(value)


def _changed(current: Attribute, raw: dict[str, Any], what: str = "") -> Attribute:
    changes: dict[str, Any] = {}
    if "name" in raw:
        changes["name"] = text(raw, "name", what)
    if "dataType" in raw:
        changes["data_type"] = data_type(raw["dataType"])
    changes["description"] = description(raw, current.description)
    return dataclasses.replace(current, **changes)


def _same(a: Attribute, b: Attribute) -> bool:
    return a.api_name.lower() == b.api_name.lower()


def _record(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ApiError("1003", "Invalid attribute record")
    known_keys(raw, ATTRIBUTE_KEYS, "attribute")
    flag = raw.get("isPrimary")
    if flag is not None and not isinstance(flag, bool):
        raise ApiError("1003", "isPrimary must be true or false")
    return raw


def _check_unique(attribute: Attribute, others: list[Attribute]) -> None:
    for other in others:
        if other.id != attribute.id and _same(other, attribute):
            raise ApiError("1017", f"Attribute '{attribute.api_name}' already exists")
        if other.id != attribute.id and other.name.lower() == attribute.name.lower():
            raise ApiError("1017", f"Attribute name '{attribute.name}' is already used")


def _limited(
    base: TypeVersion, primary: Attribute | None, secondary: list[Attribute], most: int
) -> TypeVersion:
    if len(secondary) > most:
        raise ApiError("1028", f"Max field limit reached: {most} secondary attributes")
    return dataclasses.replace(base, primary=primary, attributes=tuple(secondary))


Edit = Callable[[TypeVersion], TypeVersion]


def add_attributes(items: list[Any], most: int, new_id: NewId) -> Edit:
    """Create: each record needs apiName, name and dataType; a new primary (isPrimary true)
    only once the old one was demoted."""

    def edit(base: TypeVersion) -> TypeVersion:
        primary, secondary = base.primary, list(base.attributes)
        for raw in map(_record, items):
            made = Attribute(
                new_id(),
                api_name(raw.get("apiName"), "attribute apiName"),
                text(raw, "name", "attribute "),
                data_type(raw.get("dataType")),
                description(raw, None),
            )
            _check_unique(made, [*([primary] if primary else []), *secondary])
            if raw.get("isPrimary") is True:
                if primary is not None:
                    raise ApiError("1003", f"Demote primary attribute '{primary.api_name}' first")
                primary = made
            else:
                secondary.append(made)
        return _limited(base, primary, secondary, most)

    return edit


def update_attributes(items: list[Any], most: int) -> Edit:
    """Update by apiName (the key, never renamed); isPrimary false demotes the primary,
    isPrimary true promotes a secondary once there is no primary."""

    def edit(base: TypeVersion) -> TypeVersion:
        primary, secondary = base.primary, list(base.attributes)
        for raw in map(_record, items):
            current = _existing(raw, primary, secondary)
            updated = _changed(current, raw)
            _check_unique(updated, [*([primary] if primary else []), *secondary])
            was_primary = primary is not None and primary.id == current.id
            flag = raw.get("isPrimary")
            if flag is True and not was_primary:
                if primary is not None:
                    raise ApiError("1003", f"Demote primary attribute '{primary.api_name}' first")
                secondary.remove(current)
                primary = updated
            elif flag is False and was_primary:
                primary = None
                secondary.append(updated)
            elif was_primary:
                primary = updated
            else:
                secondary[secondary.index(current)] = updated
        return _limited(base, primary, secondary, most)

    return edit


def delete_attributes(items: list[Any]) -> Edit:
    """Delete by apiName; the primary attribute cannot be deleted."""

    def edit(base: TypeVersion) -> TypeVersion:
        primary, secondary = base.primary, list(base.attributes)
        for raw in map(_record, items):
            current = _existing(raw, primary, secondary)
            if primary is not None and current.id == primary.id:
                raise ApiError("1003", f"Primary attribute '{current.api_name}' cannot be deleted")
            secondary.remove(current)
        return dataclasses.replace(base, attributes=tuple(secondary))

    return edit


def _existing(
    raw: dict[str, Any], primary: Attribute | None, secondary: list[Attribute]
) -> Attribute:
    key = raw.get("apiName")
    if not isinstance(key, str) or not key:
        raise ApiError("1003", "attribute apiName is required")
    for attribute in [*([primary] if primary else []), *secondary]:
        if attribute.api_name.lower() == key.lower():
            return attribute
    raise ApiError("1006", f"Field '{key}' not found")
