"""Asset API static lists: create one, find one by exact name.

The asset API differs from the lead database API: it takes form-urlencoded bodies, its
timestamps end in `Z+0000`, a search that finds nothing succeeds with a warning and no
`result`, and business-rule refusals (a name already taken) are 709. A list made here is a
lead database list at once: members, lists.json, bulk import into it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from .context import CallContext, Services
from .envelope import ApiError
from .store import StaticList

NOT_FOUND = "No assets found for the given search criteria."
FOLDER_TYPES = ("Folder", "Program")
# Where lists made outside the asset API are shown (Lead Database > Group Lists)
DEFAULT_FOLDER = (12, "Folder")


def create_list(svc: Services, ctx: CallContext) -> dict[str, Any]:
    ctx.action = "assets:list:create"
    req = ctx.request
    if req.body and req.content_type != "application/x-www-form-urlencoded":
        raise ApiError("612", f"Invalid Content Type '{req.content_type}'")
    name = (req.param("name") or "").strip()
    if not name:
        raise ApiError("701", "name cannot be blank")
    raw_folder = req.param("folder")
    if not raw_folder:
        raise ApiError("701", "folder cannot be blank")
    folder = _folder(raw_folder)
    ctx.records = 1
    made = svc.store.create_list(name, req.param("description"), folder)
    if made is None:
        raise ApiError("709", f"Static list name '{name}' is already in use")
    return ctx.ok([asset_record(made, ctx)])


def by_name(svc: Services, ctx: CallContext) -> dict[str, Any]:
    ctx.action = "assets:list:byName"
    name = ctx.request.param("name")
    if not name:
        raise ApiError("701", "name cannot be blank")
    found = [s for s in svc.store.list_records() if s.name == name]
    if not found:
        return {"success": True, "errors": [], "requestId": ctx.request_id, "warnings": [NOT_FOUND]}
    ctx.records = 1
    return ctx.ok([asset_record(found[0], ctx)])


def asset_record(s: StaticList, ctx: CallContext) -> dict[str, Any]:
    folder_id, folder_type = s.folder or DEFAULT_FOLDER
    out: dict[str, Any] = {"id": s.id, "name": s.name}
    if s.description is not None:
        out["description"] = s.description
    host = ctx.request.headers.get("host", "127.0.0.1")
    out.update(
        createdAt=_asset_time(s.created_at),
        updatedAt=_asset_time(s.updated_at),
        folder={"id": folder_id, "type": folder_type},
        computedUrl=f"http://{host}/#ST{s.id}A1",
        workspace=s.workspace_name,
    )
    return out


def _folder(raw: str) -> tuple[int, str]:
    try:
        folder = json.loads(raw)
    except json.JSONDecodeError:
        folder = None
    if (
        not isinstance(folder, dict)
        or isinstance(folder.get("id"), bool)
        or not isinstance(folder.get("id"), int)
        or folder.get("type") not in FOLDER_TYPES
    ):
        raise ApiError("1003", f'Invalid folder \'{raw}\': {{"id": N, "type": "Folder"}}')
    return int(folder["id"]), str(folder["type"])


def _asset_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ+0000")
