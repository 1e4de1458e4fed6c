"""The webhook actions of the Configuration API, per API version, with their filters.

From the "Triggering actions" table of Register Webhook. Chat actions can carry additional
data (`chat_properties`, `chat_presence_user_ids`); configuration actions carry none.
"""

from __future__ import annotations

from dataclasses import dataclass

STABLE_VERSION = "3.6"
ADDITIONAL_DATA = ("chat_properties", "chat_presence_user_ids")

_CHAT = ("chat_presence", "only_my_chats", "source_type")
_EVENT = ("chat_presence", "author_type", "only_my_chats", "source_type")
_CONFIGURATION = ("source_type",)


@dataclass(frozen=True)
class Action:
    name: str
    filters: tuple[str, ...]
    additional_data: tuple[str, ...] = ADDITIONAL_DATA

    def to_dict(self) -> dict[str, object]:
        """As `list_webhook_names` shows it: no `additional_data` key when there is none."""
        entry: dict[str, object] = {"action": self.name, "filters": list(self.filters)}
        if self.additional_data:
            entry["additional_data"] = list(self.additional_data)
        return entry


def _configuration(*names: str) -> list[Action]:
    return [Action(name, _CONFIGURATION, ()) for name in names]


_V36 = [
    Action("incoming_chat", _CHAT),
    Action("chat_deactivated", _CHAT),
    Action("chat_access_updated", _CHAT),
    Action("chat_transferred", _CHAT),
    Action("user_added_to_chat", _CHAT),
    Action("user_removed_from_chat", _CHAT),
    Action("incoming_event", _EVENT),
    Action("event_deleted", _CHAT),
    Action("event_updated", _EVENT),
    Action("incoming_rich_message_postback", _CHAT),
    Action("chat_properties_updated", _CHAT),
    Action("chat_properties_deleted", _CHAT),
    Action("thread_properties_updated", _CHAT),
    Action("thread_properties_deleted", _CHAT),
    Action("event_properties_updated", _CHAT),
    Action("event_properties_deleted", _CHAT),
    Action("thread_tagged", _CHAT),
    Action("thread_untagged", _CHAT),
    Action("routing_status_set", ("agent_ids", "source_type")),
    Action("customer_session_fields_updated", ("chat_presence", "source_type")),
    Action("events_marked_as_seen", _CHAT),
    *_configuration("group_created", "group_updated", "group_deleted"),
    *_configuration(
        "agent_created",
        "agent_updated",
        "agent_deleted",
        "agent_suspended",
        "agent_unsuspended",
        "agent_approved",
    ),
    *_configuration("bot_created", "bot_updated", "bot_deleted", "auto_accesses_updated"),
    *_configuration("tag_created", "tag_deleted", "tag_updated"),
    Action("thread_summary_set", _CHAT),
]

# v3.5 had incoming_customer; v3.6 added event_deleted and thread_summary_set; v3.7 = v3.6.
_V35 = [a for a in _V36 if a.name not in {"event_deleted", "thread_summary_set"}]
_V35.insert(
    [a.name for a in _V35].index("customer_session_fields_updated"),
    Action("incoming_customer", ("source_type",)),
)

CATALOGUE: dict[str, tuple[Action, ...]] = {
    "3.5": tuple(_V35),
    "3.6": tuple(_V36),
    "3.7": tuple(_V36),
}


def actions(version: str) -> dict[str, Action]:
    return {action.name: action for action in CATALOGUE.get(version, CATALOGUE[STABLE_VERSION])}
