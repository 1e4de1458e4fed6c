"""LiveChat simulator: the Agent Chat API's list_archives, the Configuration API's webhooks and
license limits, a data generator, a webhook sender, and faults switchable at runtime (errors,
a load balancer's 502, slow answers, lost answers, expiring page ids), each one counted."""

from local.simulators.livechat.configuration import (
    DEFAULT_ARCHIVE_RETENTION_MONTHS,
    DEFAULT_CLIENT_ID,
)
from local.simulators.livechat.data import (
    Chat,
    Dataset,
    GenerationParams,
    Visitor,
    generate,
    iter_chats,
    normalize_email,
    visitors,
)
from local.simulators.livechat.faults import FaultConfig
from local.simulators.livechat.registration import Webhook
from local.simulators.livechat.scopes import DEFAULT_SCOPES, FULL_SCOPES
from local.simulators.livechat.server import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_TOKEN,
    LiveChatSimulator,
)
from local.simulators.livechat.timefmt import format_api, format_filter

__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "DEFAULT_ARCHIVE_RETENTION_MONTHS",
    "DEFAULT_CLIENT_ID",
    "DEFAULT_SCOPES",
    "DEFAULT_TOKEN",
    "FULL_SCOPES",
    "Chat",
    "Dataset",
    "FaultConfig",
    "GenerationParams",
    "LiveChatSimulator",
    "Visitor",
    "Webhook",
    "format_api",
    "format_filter",
    "generate",
    "iter_chats",
    "normalize_email",
    "visitors",
]
