"""The simulators' side of the local world: what the LiveChat and Marketo simulators hold, and
what a test or a run changes in them, through their `/_sim` endpoints."""

from __future__ import annotations

import urllib.parse
from typing import Any

from local.ports import get_json, post_json


class SimulatorsSide:
    """Reads and controls of the simulators at `livechat_url` and `marketo_url`."""

    livechat_url: str
    marketo_url: str

    # -- LiveChat ---------------------------------------------------------------------------
    def livechat_visitors(self) -> list[dict[str, Any]]:
        """The distinct visitors the generated chats hold, as the simulator computes them."""
        found: list[dict[str, Any]] = get_json(f"{self.livechat_url}/_sim/visitors")["visitors"]
        return found

    def livechat_fault_counts(self) -> dict[str, int]:
        """The faults the LiveChat simulator dealt, by kind."""
        answer = get_json(f"{self.livechat_url}/_sim/faults")
        counts = answer.get("counts", {}) if isinstance(answer, dict) else {}
        return {str(kind): int(n) for kind, n in counts.items()}

    def livechat_chat_count(self) -> int:
        """How many chats the LiveChat simulator holds."""
        return int(get_json(f"{self.livechat_url}/_sim/health")["chats"])

    def add_livechat_chats(self, chats: list[dict[str, Any]]) -> int:
        """Add (or replace, by chat id) chats in the LiveChat simulator; how many were new."""
        answer = post_json(f"{self.livechat_url}/_sim/chats", {"chats": chats})
        return int(answer["added"])

    # -- Marketo ----------------------------------------------------------------------------
    def marketo_leads(self) -> list[dict[str, Any]]:
        leads: list[dict[str, Any]] = get_json(f"{self.marketo_url}/_sim/leads")["leads"]
        return leads

    def marketo_activities(self, type_api_name: str = "") -> list[dict[str, Any]]:
        """The simulator's custom activities (of one type), in the order added."""
        query = urllib.parse.urlencode({"type": type_api_name}) if type_api_name else ""
        found: list[dict[str, Any]] = get_json(f"{self.marketo_url}/_sim/activities?{query}")[
            "activities"
        ]
        return found

    def marketo_activity_types(self) -> list[dict[str, Any]]:
        """The simulator's custom activity types (`apiName`, `status`, ...)."""
        found: list[dict[str, Any]] = get_json(f"{self.marketo_url}/_sim/activities")["types"]
        return found

    def marketo_leads_of(self, *emails: str) -> list[dict[str, Any]]:
        """The simulator's leads with these e-mails (any case)."""
        query = urllib.parse.urlencode([("email", email) for email in emails])
        leads: list[dict[str, Any]] = get_json(f"{self.marketo_url}/_sim/leads?{query}")["leads"]
        return leads

    def marketo_lists(self) -> dict[int, set[int]]:
        """Every static list of the Marketo simulator: list id → the ids of its members."""
        found = get_json(f"{self.marketo_url}/_sim/lists")["lists"]
        return {int(static["id"]): {int(m) for m in static["members"]} for static in found}

    def add_marketo_list(self, list_id: int, name: str) -> int:
        """Create a static list in the Marketo simulator, as a marketer would."""
        created = post_json(f"{self.marketo_url}/_sim/lists", {"id": list_id, "name": name})
        return int(created["id"])

    def seed_marketo(self, leads: list[dict[str, Any]]) -> list[int]:
        ids: list[int] = post_json(f"{self.marketo_url}/_sim/leads", {"leads": leads})["ids"]
        return ids

    def advance_marketo_clock(self, seconds: float) -> dict[str, Any]:
        """Move the Marketo simulator's clock forward (imports progress in its time)."""
        moved: dict[str, Any] = post_json(
            f"{self.marketo_url}/_sim/clock", {"advance_seconds": seconds}
        )
        return moved

    def marketo_audit(self, since: int = 0, limit: int | None = None) -> dict[str, Any]:
        query = f"?since={since}" + (f"&limit={limit}" if limit is not None else "")
        audit: dict[str, Any] = get_json(f"{self.marketo_url}/_sim/audit{query}")
        return audit
