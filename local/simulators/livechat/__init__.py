"""LiveChat simulator: the Agent Chat API's list_archives, a data generator, webhook sender."""

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
from local.simulators.livechat.server import (
    DEFAULT_ACCOUNT_ID,
    DEFAULT_TOKEN,
    LiveChatSimulator,
)
from local.simulators.livechat.timefmt import format_api, format_filter

__all__ = [
    "DEFAULT_ACCOUNT_ID",
    "DEFAULT_TOKEN",
    "Chat",
    "Dataset",
    "FaultConfig",
    "GenerationParams",
    "LiveChatSimulator",
    "Visitor",
    "format_api",
    "format_filter",
    "generate",
    "iter_chats",
    "normalize_email",
    "visitors",
]
