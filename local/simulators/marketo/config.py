"""Every limit, schema entry and fault of the simulator, as plain data.

Defaults are Marketo's published figures; each one can be changed by a CLI flag or a
key of the JSON config file (same name, snake_case or kebab-case).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import permissions
from .fielddefs import (
    DATA_TYPES,
    DEFAULT_CUSTOM_FIELDS,
    STANDARD_FIELDS,
    SYSTEM_FIELDS,
    FieldDef,
    standard_schema,
)

__all__ = [
    "DATA_TYPES",
    "DEFAULT_CUSTOM_FIELDS",
    "RUNTIME_FIXED",
    "STANDARD_FIELDS",
    "SYSTEM_FIELDS",
    "FaultConfig",
    "FieldDef",
    "SimulatorConfig",
    "default_custom_fields",
    "default_lists",
    "load_config",
]

# Keys that shape the instance or the server: set at start, never through set_config.
RUNTIME_FIXED = frozenset(
    {
        "host",
        "port",
        "client_id",
        "client_secret",
        "api_user_id",
        "extra_clients",
        "custom_fields",
        "lists",
        "fresh",
        "faults",
        "audit_max_entries",
        "seed",
        "start_time",
    }
)


def default_custom_fields() -> list[dict[str, Any]]:
    return [{"name": n, "dataType": t, "length": ln} for n, t, ln in DEFAULT_CUSTOM_FIELDS]


def default_lists() -> list[dict[str, Any]]:
    return [{"id": 1001, "name": "LiveChat visitors"}]


@dataclass
class FaultConfig:
    """Switchable misbehaviour. Probabilities are per REST call unless said otherwise."""

    http_5xx_probability: float = 0.0
    http_5xx_statuses: list[int] = field(default_factory=lambda: [500, 503])
    http_502_probability: float = 0.0
    timeout_probability: float = 0.0
    timeout_delay_ms: int = 200
    # a timed-out call may or may not have been applied, as Marketo warns
    timeout_after_apply_probability: float = 0.5
    timeout_drop_probability: float = 0.0
    slow_probability: float = 0.0
    slow_min_ms: int = 0
    slow_max_ms: int = 0
    error_611_probability: float = 0.0
    error_713_probability: float = 0.0
    record_reject_probability: float = 0.0
    record_reject_codes: list[str] = field(default_factory=lambda: ["1003"])
    # bulk import (bulk_faults.py): row shares apply to rows that would import, stuck to
    # accepted jobs, busy to submits that found a free slot; "{field}" names a column
    bulk_row_failure_probability: float = 0.0
    bulk_row_failure_reason: str = "Invalid value for field '{field}'"
    bulk_row_warning_probability: float = 0.0
    bulk_row_warning_reason: str = "Value for field '{field}' imported with a warning"
    bulk_stuck_probability: float = 0.0
    # how long a stuck job stops progressing in Importing; 0 or less: until a reset
    bulk_stuck_seconds: float = 3600.0
    # how long the stall among `bulk_first_faults` lasts; 0: as `bulk_stuck_seconds`
    bulk_first_stuck_seconds: float = 0.0
    # another integration's imports fill Marketo's queue: 1016 with slots free here
    bulk_busy_probability: float = 0.0
    # the first submits meet these, in order, before any drawn by chance ("busy",
    # "failed_job", "stuck"): a short run meets each of them
    bulk_first_faults: list[str] = field(default_factory=list)
    token_expire_every_calls: int = 0
    neighbour_calls_per_window: int = 0
    neighbour_daily_calls: int = 0
    neighbour_in_flight: int = 0
    neighbour_user_id: str = "other-integration@marketo.sim"

    def update(self, changes: dict[str, Any]) -> FaultConfig:
        return dataclasses.replace(self, **_coerce(FaultConfig, changes))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class SimulatorConfig:
    host: str = "127.0.0.1"
    port: int = 0
    client_id: str = "leadsync-client"
    client_secret: str = "leadsync-secret"  # noqa: S105 - the local world's demo credential
    api_user_id: str = "leadsync@marketo.sim"
    # more API users: [{"client_id", "client_secret", "user_id"}]
    extra_clients: list[dict[str, str]] = field(default_factory=list)
    window_seconds: float = 20.0
    calls_per_window: int = 100
    max_in_flight: int = 10
    daily_quota: int = 50000
    quota_timezone: str = "America/Chicago"
    # Marketo's error table stars the codes that do not count; 606/607/615 are not starred
    count_refused_calls: bool = True
    token_lifetime: int = 3600
    records_per_call: int = 300
    filter_values_per_call: int = 300
    max_lookup_matches: int = 1000
    max_body_bytes: int = 1048576
    max_uri_bytes: int = 8192
    bulk_max_body_bytes: int = 10485760
    bulk_running_slots: int = 2
    bulk_queued_slots: int = 10
    bulk_rows_per_second: float = 100.0
    bulk_start_delay_seconds: float = 1.0
    bulk_fail_probability: float = 0.0
    # custom activities (activities.md, error-codes.md): 10 types per instance (1027), 20
    # secondary attributes per type (1028), a record's attributes ≤ 65,536 bytes (1049)
    max_activity_types: int = 10
    max_activity_attributes: int = 20
    max_activity_attributes_bytes: int = 65536
    # time between reading existing leads and writing: where concurrent upserts race
    write_delay_ms: int = 20
    read_delay_ms: int = 0
    start_time: str | None = None
    seed: int = 0
    custom_fields: list[dict[str, Any]] = field(default_factory=default_custom_fields)
    lists: list[dict[str, Any]] = field(default_factory=default_lists)
    # a newly provisioned instance: standard fields only, no custom field, no static list
    fresh: bool = False
    # permission areas the API role lacks (permissions.py): their routes answer 603
    denied_permissions: list[str] = field(default_factory=list)
    partitions: list[str] = field(default_factory=lambda: ["Default"])
    audit_max_entries: int = 200000
    faults: FaultConfig = field(default_factory=FaultConfig)

    def __post_init__(self) -> None:
        self.denied_permissions = permissions.parse(self.denied_permissions)

    def schema(self) -> dict[str, FieldDef]:
        """The lead fields the instance starts with; `fresh` ignores custom_fields."""
        defs = standard_schema()
        if not self.fresh:
            defs += [FieldDef.parse(raw) for raw in self.custom_fields]
        return {d.name: d for d in defs}

    def static_lists(self) -> list[dict[str, Any]]:
        """The static lists the instance starts with; `fresh` ignores lists."""
        return [] if self.fresh else list(self.lists)

    def users(self) -> dict[str, tuple[str, str]]:
        """client_id -> (client_secret, user_id)."""
        out = {self.client_id: (self.client_secret, self.api_user_id)}
        for c in self.extra_clients:
            out[c["client_id"]] = (c["client_secret"], c.get("user_id", c["client_id"]))
        return out

    def updated(self, changes: dict[str, Any]) -> SimulatorConfig:
        changes = dict(changes)
        faults = changes.pop("faults", None)
        new = dataclasses.replace(self, **_coerce(SimulatorConfig, changes))
        if faults is not None:
            new.faults = new.faults.update(faults)
        return new

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _coerce(cls: type[Any], changes: dict[str, Any]) -> dict[str, Any]:
    known = {f.name: f for f in dataclasses.fields(cls)}
    out: dict[str, Any] = {}
    for key, value in changes.items():
        name = key.replace("-", "_")
        if name not in known:
            raise ValueError(f"unknown {cls.__name__} key: {key!r}")
        out[name] = value
    return out


def load_config(path: str | Path | None, overrides: dict[str, Any]) -> SimulatorConfig:
    """Defaults, then the JSON file, then explicit overrides (CLI flags)."""
    config = SimulatorConfig()
    if path is not None:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(raw, dict):
            raise ValueError("the config file must hold a JSON object")
        config = config.updated(raw)
    return config.updated(overrides)
