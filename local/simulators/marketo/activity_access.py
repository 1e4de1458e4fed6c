"""The simulator's Python view of custom activities, for tests: the stored types and
records, and a type made approved in one step."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import activity_input as check
from .activity_store import ActivityStore
from .clock import SimClock
from .config import SimulatorConfig


class ActivityAccess:
    """Mixed into MarketoSimulator."""

    activity_store: ActivityStore
    clock: SimClock
    config: SimulatorConfig

    def activities(self, type_api_name: str | None = None) -> list[dict[str, Any]]:
        """Every activity stored, in the order added (or those of one type): the read-back
        item plus `activityTypeApiName`, `attributesByApiName` and `addedAt`."""
        return [a.as_dict() for a in self.activity_store.activities(type_api_name)]

    def activity_types(self) -> list[dict[str, Any]]:
        """Every custom type: `{id, apiName, status, approved, draft}`, each version as
        describe shows it (None when there is none)."""
        return [
            {
                "id": t.id,
                "apiName": t.api_name,
                "status": t.status,
                "approved": t.record(t.approved) if t.approved else None,
                "draft": t.record(t.draft) if t.draft else None,
            }
            for t in self.activity_store.types()
        ]

    def seed_activity_type(
        self,
        api_name: str,
        primary: dict[str, Any] | None = None,
        attributes: Sequence[dict[str, Any]] = (),
        *,
        approve: bool = True,
        **names: Any,
    ) -> int:
        """A custom type as the API would make it (same rules and limits), approved unless
        told otherwise; `names` may give name, triggerName, filterName, description. Its id."""
        body: dict[str, Any] = {
            "apiName": api_name,
            "name": api_name,
            "triggerName": f"{api_name} happens",
            "filterName": f"{api_name} happened",
            "primaryAttribute": primary or {"apiName": "subject", "name": "Subject"},
            **names,
        }
        store, now = self.activity_store, self.clock.now()
        version = check.version(body, None, store.attribute_id)
        made = store.create(check.api_name(api_name), version, now, self.config.max_activity_types)
        if attributes:
            most = self.config.max_activity_attributes
            store.change(
                api_name, check.add_attributes(list(attributes), most, store.attribute_id), now
            )
        if approve:
            store.approve(api_name, now)
        return made.id
