"""The API role's permissions, as areas a route needs; a missing one answers 603.

Each area stands for Marketo role permissions ("Access API" group):
  lead_read          Read-Only Lead
  lead_write         Read-Write Lead (a role holding it may also read)
  schema             Read-Write Schema Standard Field / Custom Field
  assets             Read-Only / Read-Write Assets
  bulk_import        bulk lead import (Marketo asks for Read-Write Lead as well)
  usage              Read-Only Usage (stats)
  activity_metadata  Read-Only / Read-Write Activity Metadata (custom activity types and
                     their attributes)
  activity           Read-Only / Read-Write Activity (activity types, paging token, reading
                     activities, adding custom activity records)
"""

from __future__ import annotations

from collections.abc import Iterable

LEAD_READ = "lead_read"
LEAD_WRITE = "lead_write"
SCHEMA = "schema"
ASSETS = "assets"
BULK_IMPORT = "bulk_import"
USAGE = "usage"
ACTIVITY_METADATA = "activity_metadata"
ACTIVITY = "activity"

AREAS = frozenset(
    {LEAD_READ, LEAD_WRITE, SCHEMA, ASSETS, BULK_IMPORT, USAGE, ACTIVITY_METADATA, ACTIVITY}
)

# An area is held when it, or an area that includes it, is not denied.
_INCLUDED_IN: dict[str, tuple[str, ...]] = {LEAD_READ: (LEAD_WRITE,)}


def parse(raw: object) -> list[str]:
    """Area names from a list or a comma-separated string; unknown names are refused."""
    if raw is None:
        return []
    if isinstance(raw, str):
        items: list[object] = list(raw.split(","))
    elif isinstance(raw, list | tuple | set | frozenset):
        items = list(raw)
    else:
        raise ValueError(f"permissions must be a list or a comma-separated string: {raw!r}")
    names = [str(item).strip() for item in items if str(item).strip()]
    unknown = sorted(set(names) - AREAS)
    if unknown:
        raise ValueError(
            f"unknown permission area(s): {', '.join(unknown)}; known: {', '.join(sorted(AREAS))}"
        )
    return names


def allowed(needs: Iterable[str], denied: Iterable[str]) -> bool:
    refused = set(denied)
    return all(
        area not in refused or any(wider not in refused for wider in _INCLUDED_IN.get(area, ()))
        for area in needs
    )
