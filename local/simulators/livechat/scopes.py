"""Token scopes: the names the simulated methods need and LiveChat's rules for implied scopes.

A scope reads `<resource>[--<level>]:<mode>`. LiveChat's general rules: every `rw` scope holds
the `ro` privileges, every `access` scope holds the `my` ones, every `all` scope holds the
`access` and `my` ones. Scopes belong to the token and are fixed when it is made.
"""

from __future__ import annotations

from collections.abc import Iterable

from local.simulators.livechat.errors import ApiError

CHATS_ALL_RO = "chats--all:ro"
CHATS_ACCESS_RO = "chats--access:ro"
WEBHOOKS_CONFIGURATION_RW = "webhooks.configuration:rw"
WEBHOOKS_STATE_RO = "webhooks.state:ro"
WEBHOOKS_STATE_RW = "webhooks.state:rw"
LICENSE_PROPERTIES_MY_RO = "properties.license.value--my:ro"
LICENSE_PROPERTIES_ALL_RO = "properties.license.value--all:ro"

DEFAULT_SCOPES: tuple[str, ...] = (CHATS_ALL_RO,)
# Everything the simulated methods can ask for (`webhooks.state:rw` holds `webhooks.state:ro`).
FULL_SCOPES: tuple[str, ...] = (
    CHATS_ALL_RO,
    WEBHOOKS_CONFIGURATION_RW,
    WEBHOOKS_STATE_RW,
    LICENSE_PROPERTIES_ALL_RO,
)

_LEVELS = {"my": {"my"}, "access": {"my", "access"}, "all": {"my", "access", "all"}}
_MODES = {"ro": {"ro"}, "rw": {"ro", "rw", "rc"}, "rc": {"ro", "rc"}}


def _split(scope: str) -> tuple[str, str | None, str]:
    name, _, mode = scope.partition(":")
    resource, _, level = name.partition("--")
    return resource, level or None, mode


def implies(granted: str, needed: str) -> bool:
    """Whether holding `granted` allows what `needed` allows."""
    if granted == needed:
        return True
    g_resource, g_level, g_mode = _split(granted)
    n_resource, n_level, n_mode = _split(needed)
    if g_resource != n_resource or n_mode not in _MODES.get(g_mode, {g_mode}):
        return False
    if g_level == n_level:
        return True
    return g_level is not None and n_level in _LEVELS.get(g_level, {g_level})


def holds(granted: Iterable[str], needed: str) -> bool:
    return any(implies(scope, needed) for scope in granted)


def require(granted: Iterable[str], *needed: str) -> None:
    """Any one of `needed` will do; otherwise `authorization`, naming what was needed."""
    scopes = tuple(granted)
    if not any(holds(scopes, scope) for scope in needed):
        raise ApiError("authorization", f"Missing scope: {' or '.join(needed)}")
