"""Custom activity types and activity records, behind one short lock.

A type keeps an approved version and a draft; every change goes to the draft (made from the
approved version when there is none) and only approval makes it live. Records are
write-once: nothing updates or deletes them, and nothing makes them unique either (no
idempotency key), so the same record posted twice is two activities.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import threading
from collections.abc import Callable, Collection

from .activity_model import Activity, ActivityType, TypeVersion
from .activity_standard import STANDARD_TYPE_NAMES
from .envelope import ApiError

# Custom type ids as activities.md shows them (100001, ...)
FIRST_TYPE_ID = 100001

Position = tuple[int, int]  # (activity date in ms, activity id): where a read-back stands


class ActivityStore:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """No custom type, no activity: as a newly provisioned instance."""
        with self.lock:
            self._types: dict[str, ActivityType] = {}  # apiName, case ignored
            self._type_ids = itertools.count(FIRST_TYPE_ID)
            self._attribute_ids = itertools.count(1)
            self._activity_ids = itertools.count(1)
            self._activities: dict[int, Activity] = {}
            self._order: list[Position] = []

    # -- types ----------------------------------------------------------------------------
    def attribute_id(self) -> int:
        return next(self._attribute_ids)

    def types(self) -> list[ActivityType]:
        with self.lock:
            return [_copy(t) for t in sorted(self._types.values(), key=lambda t: t.id)]

    def get(self, api_name: str) -> ActivityType | None:
        with self.lock:
            found = self._types.get(api_name.lower())
            return _copy(found) if found else None

    def by_id(self, type_id: int) -> ActivityType | None:
        with self.lock:
            found = next((t for t in self._types.values() if t.id == type_id), None)
            return _copy(found) if found else None

    def create(self, api_name: str, version: TypeVersion, now: float, most: int) -> ActivityType:
        """A new type, in draft; 1027 past `most` types, 1017 when a name is taken."""
        with self.lock:
            if len(self._types) >= most:
                raise ApiError("1027", f"Max Activity Type Limit Reached ({most})")
            if api_name.lower() in self._types:
                raise ApiError("1017", f"Activity type '{api_name}' already exists")
            self._check_names(version, None)
            made = ActivityType(next(self._type_ids), api_name, now, now, draft=version)
            self._types[api_name.lower()] = made
            return _copy(made)

    def change(
        self, api_name: str, edit: Callable[[TypeVersion], TypeVersion], now: float
    ) -> ActivityType:
        """`edit` applied to the draft (or to a copy of the approved version) under the lock."""
        with self.lock:
            found = self._live(api_name)
            version = edit(found.latest())
            self._check_names(version, found.id)
            found.draft = version
            found.updated_at = now
            return _copy(found)

    def approve(self, api_name: str, now: float) -> ActivityType:
        with self.lock:
            found = self._live(api_name)
            if found.draft is None:
                raise ApiError("709", f"Activity type '{found.api_name}' has no draft to approve")
            if found.draft.primary is None:
                raise ApiError("709", f"Activity type '{found.api_name}' has no primary attribute")
            found.approved, found.draft = found.draft, None
            found.updated_at = now
            return _copy(found)

    def discard(self, api_name: str, now: float) -> ActivityType:
        with self.lock:
            found = self._live(api_name)
            if found.draft is None:
                raise ApiError("709", f"Activity type '{found.api_name}' has no draft to discard")
            if found.approved is None:
                message = f"Activity type '{found.api_name}' was never approved: delete it instead"
                raise ApiError("709", message)
            found.draft = None
            found.updated_at = now
            return _copy(found)

    def delete(self, api_name: str) -> ActivityType:
        """The type is gone (its slot freed); its records stay stored but cannot be read back."""
        with self.lock:
            found = self._live(api_name)
            del self._types[found.api_name.lower()]
            return _copy(found)

    def _live(self, api_name: str) -> ActivityType:
        found = self._types.get(api_name.lower())
        if found is None:
            raise ApiError("1013", f"Activity type '{api_name}' not found")
        return found

    def _check_names(self, version: TypeVersion, own_id: int | None) -> None:
        """Name, trigger name and filter name unique among types (case ignored); the name not
        one of a standard type."""
        if version.name.lower() in STANDARD_TYPE_NAMES:
            raise ApiError("1017", f"name '{version.name}' is used by a standard activity type")
        wanted = {
            "name": version.name.lower(),
            "triggerName": version.trigger_name.lower(),
            "filterName": version.filter_name.lower(),
        }
        for other in self._types.values():
            if other.id == own_id:
                continue
            for v in other.versions():
                taken = {
                    "name": v.name.lower(),
                    "triggerName": v.trigger_name.lower(),
                    "filterName": v.filter_name.lower(),
                }
                for key, value in wanted.items():
                    if taken[key] == value:
                        message = f"{key} '{value}' is already used by '{other.api_name}'"
                        raise ApiError("1017", message)

    # -- records --------------------------------------------------------------------------
    def activity_id(self) -> int:
        return next(self._activity_ids)

    def add(self, activity: Activity) -> None:
        with self.lock:
            self._activities[activity.id] = activity
            bisect.insort(self._order, (activity.date_ms, activity.id))

    def read(
        self,
        after: Position,
        type_ids: Collection[int],
        lead_ids: Collection[int] | None,
        asset_ids: Collection[int] | None,
        most: int,
    ) -> tuple[list[Activity], bool, Position]:
        """Up to `most` matching activities after `after` in date order, whether more match,
        and the position after the last one returned."""
        out: list[Activity] = []
        position, more = after, False
        with self.lock:
            start = bisect.bisect_right(self._order, after)
            for key in self._order[start:]:
                item = self._activities[key[1]]
                if item.type_id not in type_ids:
                    continue
                if lead_ids is not None and item.lead_id not in lead_ids:
                    continue
                if asset_ids is not None and item.primary_field_id not in asset_ids:
                    continue
                if len(out) == most:
                    more = True
                    break
                out.append(item)
                position = key
        return out, more, position

    def activities(self, type_api_name: str | None = None) -> list[Activity]:
        """Every stored activity in the order added, or those of one type (case ignored)."""
        with self.lock:
            items = [self._activities[i] for i in sorted(self._activities)]
        if type_api_name is None:
            return items
        return [a for a in items if a.type_api_name.lower() == type_api_name.lower()]


def _copy(found: ActivityType) -> ActivityType:
    return dataclasses.replace(found)
