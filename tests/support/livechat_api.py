"""Calls to the LiveChat simulator's Web API over HTTP, as its tests make them."""

from __future__ import annotations

from typing import Any

import requests

from local.simulators.livechat import LiveChatSimulator


def post_action(
    sim: LiveChatSimulator, path: str, body: Any, *, auth: str | None, version: str
) -> requests.Response:
    """POST `body` to `/v{version}/{path}`: bytes as they are, anything else as JSON. `auth`
    "ok" sends the simulator's own authorization, None sends none, any other value as given."""
    headers = {}
    if auth == "ok":
        headers["Authorization"] = sim.authorization
    elif auth is not None:
        headers["Authorization"] = auth
    url = f"{sim.base_url}/v{version}/{path}"
    if isinstance(body, bytes):
        return requests.post(url, data=body, headers=headers, timeout=5)
    return requests.post(url, json=body, headers=headers, timeout=5)
