"""The lead database and static lists, guarded by one short lock.

Callers read a snapshot, work without the lock, then write: so two overlapping upserts
of the same new key both insert, as Marketo warns they can.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .clock import iso_utc
from .envelope import reason
from .fielddefs import FieldDef
from .lead_schema import LeadSchema
from .schema import match_key


@dataclass
class StaticList:
    id: int
    name: str
    created_at: float = 0.0
    updated_at: float = 0.0
    description: str | None = None
    program_name: str | None = None
    workspace_name: str = "Default"
    folder: tuple[int, str] | None = None  # (id, "Folder" | "Program")
    members: dict[int, None] = field(default_factory=dict)


class LeadStore:
    def __init__(
        self,
        schema: Mapping[str, FieldDef],
        lists: list[dict[str, Any]],
        now: Callable[[], float] = time.time,
    ) -> None:
        self.lead_schema = LeadSchema(schema)
        self._configured_lists = lists
        self._now = now
        self.lock = threading.Lock()
        self.reset()

    @property
    def schema(self) -> Mapping[str, FieldDef]:
        """The lead fields now: a snapshot that later field changes leave untouched."""
        return self.lead_schema.fields

    def reset(self) -> None:
        """Back to the configured instance: no leads, the configured fields and lists."""
        self.lead_schema.reset()
        with self.lock:
            self._leads: dict[int, dict[str, Any]] = {}
            self._by_email: dict[str, list[int]] = {}
            self._next_id = 1
            now = self._now()
            configured = [_configured_list(raw, now) for raw in self._configured_lists]
            self._lists: dict[int, StaticList] = {s.id: s for s in configured}

    # -- leads ----------------------------------------------------------------------------
    def matches(self, field_name: str, values: Iterable[Any]) -> dict[Any, list[int]]:
        """match key -> ids of leads holding that value now, ordered by id."""
        fdef = self.schema[field_name]
        wanted = {match_key(fdef, v) for v in values} - {None}
        out: dict[Any, list[int]] = {k: [] for k in wanted}
        with self.lock:
            if field_name == "email":
                for key in wanted:
                    out[key] = list(self._by_email.get(key, []))
            elif field_name == "id":
                for key in wanted:
                    if key in self._leads:
                        out[key] = [key]
            else:
                for lead_id, lead in self._leads.items():
                    key = match_key(fdef, lead.get(field_name))
                    if key in out:
                        out[key].append(lead_id)
        return out

    def get(self, lead_id: int) -> dict[str, Any] | None:
        with self.lock:
            lead = self._leads.get(lead_id)
            return dict(lead) if lead is not None else None

    def get_many(self, ids: Iterable[int]) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(self._leads[i]) for i in ids if i in self._leads]

    def insert(self, values: dict[str, Any], now: float, lead_id: int | None = None) -> int:
        with self.lock:
            if lead_id is None or lead_id in self._leads:
                lead_id = self._next_id
            self._next_id = max(self._next_id, lead_id + 1)
            stamp = iso_utc(now)
            lead: dict[str, Any] = dict.fromkeys(self.schema)
            lead.update(values)
            lead.update({"id": lead_id, "createdAt": stamp, "updatedAt": stamp})
            self._leads[lead_id] = lead
            self._index(lead_id, None, lead.get("email"))
            return lead_id

    def update(self, lead_id: int, values: dict[str, Any], now: float) -> bool:
        with self.lock:
            lead = self._leads.get(lead_id)
            if lead is None:
                return False
            old_email = lead.get("email")
            lead.update({k: v for k, v in values.items() if k not in {"id", "createdAt"}})
            lead["updatedAt"] = iso_utc(now)
            self._index(lead_id, old_email, lead.get("email"))
            return True

    def delete(self, lead_id: int) -> bool:
        with self.lock:
            lead = self._leads.pop(lead_id, None)
            if lead is None:
                return False
            self._index(lead_id, lead.get("email"), None)
            for static in self._lists.values():
                static.members.pop(lead_id, None)
            return True

    def all_leads(self) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(lead) for lead in self._leads.values()]

    def count(self) -> int:
        with self.lock:
            return len(self._leads)

    def _index(self, lead_id: int, old: Any, new: Any) -> None:
        if old:
            ids = self._by_email.get(str(old).lower(), [])
            if lead_id in ids:
                ids.remove(lead_id)
            if not ids:
                self._by_email.pop(str(old).lower(), None)
        if new:
            self._by_email.setdefault(str(new).lower(), []).append(lead_id)

    # -- lists ----------------------------------------------------------------------------
    def _add_list(self, list_id: int, name: str) -> StaticList:
        static = self._lists.get(list_id)
        if static is None:
            now = self._now()
            static = self._lists[list_id] = StaticList(list_id, name, now, now)
        return static

    def create_list(
        self, name: str, description: str | None, folder: tuple[int, str]
    ) -> StaticList | None:
        """A new list as the asset API makes it; None when the name is taken (any case)."""
        with self.lock:
            if any(s.name.lower() == name.lower() for s in self._lists.values()):
                return None
            list_id = max(self._lists, default=1000) + 1
            static = self._add_list(list_id, name)
            static.description, static.folder = description, folder
            return dataclasses.replace(static, members={})

    def list_records(self) -> list[StaticList]:
        """Every list's metadata (members left out), ordered by id."""
        with self.lock:
            return [dataclasses.replace(s, members={}) for _, s in sorted(self._lists.items())]

    def add_list(self, list_id: int | None, name: str) -> int:
        with self.lock:
            if list_id is None:
                list_id = max(self._lists, default=1000) + 1
            self._add_list(list_id, name)
            return list_id

    def has_list(self, list_id: int) -> bool:
        with self.lock:
            return list_id in self._lists

    def list_op(self, list_id: int, lead_ids: list[int], op: str) -> list[dict[str, Any]]:
        """add | remove | ismember, one result per id in order."""
        out: list[dict[str, Any]] = []
        with self.lock:
            members = self._lists[list_id].members
            for lead_id in lead_ids:
                if lead_id not in self._leads:
                    out.append({"id": lead_id, "status": "skipped", "reasons": [reason("1004")]})
                elif op == "add":
                    members[lead_id] = None
                    out.append({"id": lead_id, "status": "added"})
                elif op == "remove":
                    if lead_id in members:
                        del members[lead_id]
                        out.append({"id": lead_id, "status": "removed"})
                    else:
                        out.append(
                            {"id": lead_id, "status": "skipped", "reasons": [reason("1015")]}
                        )
                else:
                    status = "memberof" if lead_id in members else "notmemberof"
                    out.append({"id": lead_id, "status": status})
        return out

    def members(self, list_id: int) -> list[int]:
        with self.lock:
            return list(self._lists[list_id].members)

    def lists(self) -> list[dict[str, Any]]:
        with self.lock:
            return [
                {"id": s.id, "name": s.name, "members": list(s.members)}
                for s in self._lists.values()
            ]


def _configured_list(raw: dict[str, Any], now: float) -> StaticList:
    folder = raw.get("folder")
    return StaticList(
        int(raw["id"]),
        str(raw.get("name", f"List {raw['id']}")),
        now,
        now,
        description=raw.get("description"),
        program_name=raw.get("programName"),
        workspace_name=str(raw.get("workspaceName", "Default")),
        folder=(int(folder["id"]), str(folder["type"])) if folder else None,
    )
