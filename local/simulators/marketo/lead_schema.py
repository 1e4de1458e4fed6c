"""The instance's lead fields as mutable state: created and updated through the Field
Management API, read by every lead route.

Each change publishes a new mapping and never touches the published one, so a reader (a
sync validating records, a bulk import, a describe) keeps one consistent view for its
whole call without holding a lock.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from .fielddefs import FieldDef


class LeadSchema:
    def __init__(self, configured: Mapping[str, FieldDef]) -> None:
        self._configured = dict(configured)
        self._lock = threading.Lock()
        self._fields: Mapping[str, FieldDef] = MappingProxyType(dict(self._configured))

    @property
    def fields(self) -> Mapping[str, FieldDef]:
        """name -> field, in creation order; never mutated once returned."""
        return self._fields

    def reset(self) -> None:
        with self._lock:
            self._fields = MappingProxyType(dict(self._configured))

    def create(self, fdef: FieldDef) -> str | None:
        """Adds the field; or the name of the field whose name or label it would repeat."""
        with self._lock:
            clash = _conflict(self._fields, fdef.name, fdef.label, skip=None)
            if clash is None:
                self._fields = MappingProxyType({**self._fields, fdef.name: fdef})
            return clash

    def update(self, name: str, changes: dict[str, Any]) -> str | None:
        """Replaces attributes of an existing field; or the field whose label it would repeat."""
        with self._lock:
            current = self._fields[name]
            new = dataclasses.replace(current, **changes)
            clash = _conflict(self._fields, None, new.label, skip=name)
            if clash is None:
                self._fields = MappingProxyType({**self._fields, name: new})
            return clash


def _conflict(
    fields: Mapping[str, FieldDef], name: str | None, label: str, skip: str | None
) -> str | None:
    wanted_name = name.lower() if name is not None else None
    wanted_label = label.strip().lower()
    for other in fields.values():
        if other.name == skip:
            continue
        if other.name.lower() == wanted_name or other.label.strip().lower() == wanted_label:
            return other.name
    return None
