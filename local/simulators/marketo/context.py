"""What a route handler gets: the simulator's parts and the call being served."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .audit import AuditLog
from .clock import SimClock
from .config import SimulatorConfig
from .envelope import ApiError, success
from .faults import FaultInjector
from .http_io import Request
from .limits import LimitState
from .store import LeadStore

if TYPE_CHECKING:
    from .activity_store import ActivityStore
    from .bulk import BulkImports


@dataclass
class Services:
    config: SimulatorConfig
    clock: SimClock
    store: LeadStore
    limits: LimitState
    faults: FaultInjector
    audit: AuditLog
    bulk: BulkImports
    activities: ActivityStore


@dataclass
class CallContext:
    request: Request
    request_id: str
    user: str
    path_args: dict[str, str] = field(default_factory=dict)
    action: str = ""
    records: int = 0
    reasons: list[str] = field(default_factory=list)

    def ok(self, result: list[Any], **extra: Any) -> dict[str, Any]:
        for item in result:
            if isinstance(item, dict):
                self.reasons.extend(r["code"] for r in item.get("reasons", []))
                if item.get("status") == "skipped":
                    # Add Custom Activities names a skipped record's reasons `errors`
                    self.reasons.extend(r["code"] for r in item.get("errors", []))
        return success(self.request_id, result, **extra)

    def counted_input(
        self,
        items: Any,
        most: int,
        *,
        missing: str = "input is required",
        what: str = "records in input",
    ) -> list[Any]:
        """The call's input records, counted for the audit: 1003 when there are none or more
        than `most`."""
        if not isinstance(items, list) or not items:
            raise ApiError("1003", missing)
        self.records = len(items)
        if len(items) > most:
            raise ApiError("1003", f"Too many {what}, max {most}")
        return items
