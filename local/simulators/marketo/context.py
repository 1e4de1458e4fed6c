"""What a route handler gets: the simulator's parts and the call being served."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .audit import AuditLog
from .clock import SimClock
from .config import SimulatorConfig
from .envelope import success
from .faults import FaultInjector
from .http_io import Request
from .limits import LimitState
from .store import LeadStore

if TYPE_CHECKING:
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
        return success(self.request_id, result, **extra)
