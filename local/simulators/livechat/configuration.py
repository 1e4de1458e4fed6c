"""Configuration API v3.6, the part a setup check needs: webhooks, their state, limits.

`POST /v3.6/configuration/action/<method>` with a JSON body. Every method but
`list_webhook_names` needs a token (a PAT over Basic auth) holding the method's scope.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from local.simulators.livechat import scopes
from local.simulators.livechat.actions import CATALOGUE, STABLE_VERSION
from local.simulators.livechat.errors import INVALID_JSON, ApiError
from local.simulators.livechat.registration import invalid, owner_client_id, parse_webhook, text
from local.simulators.livechat.registry import WebhookRegistry

DEFAULT_CLIENT_ID = "b7c1f3a8e2d94c6f9a0e5d3b1c7f2a64"
DEFAULT_ARCHIVE_RETENTION_MONTHS = 24  # the Business plan; -1 means unlimited
LIMITS_NAMESPACE = "limits"
# A namespace is public when its properties can be read with a `--all` scope.
PUBLIC_NAMESPACES = frozenset({LIMITS_NAMESPACE})


@dataclass(frozen=True)
class Request:
    body: dict[str, Any]
    version: str
    granted: tuple[str, ...]


Handler = Callable[["ConfigurationApi", Request], object]


@dataclass(frozen=True)
class Method:
    handler: Handler
    scopes: tuple[str, ...]  # any one of them will do; () means no authorization at all

    @property
    def needs_token(self) -> bool:
        return bool(self.scopes)


class ConfigurationApi:
    def __init__(
        self,
        registry: WebhookRegistry,
        *,
        client_ids: Iterable[str] = (DEFAULT_CLIENT_ID,),
        archive_retention_months: int = DEFAULT_ARCHIVE_RETENTION_MONTHS,
    ) -> None:
        self.registry = registry
        if isinstance(client_ids, str):
            raise ValueError("client_ids: a list of Client IDs, not one string")
        self.client_ids = tuple(dict.fromkeys(client_ids))
        if not self.client_ids or not all(isinstance(c, str) and c for c in self.client_ids):
            raise ValueError("client_ids: at least one non-empty Client ID")
        if archive_retention_months < 1 and archive_retention_months != -1:
            raise ValueError("archive_retention_months: months >= 1, or -1 for unlimited")
        self.archive_retention_months = archive_retention_months

    @staticmethod
    def method(name: str) -> Method:
        found = METHODS.get(name)
        if found is None:
            raise ApiError("not_found", f"Configuration API has no method {name}")
        return found

    def authorize(self, name: str, granted: Iterable[str]) -> Method:
        """The method, if the token's scopes allow it; else `authorization`."""
        method = self.method(name)
        if method.needs_token:
            scopes.require(granted, *method.scopes)
        return method

    def call(self, name: str, body: object, *, granted: Iterable[str], version: str) -> object:
        """Run a method whose caller is already authenticated (when it needs to be)."""
        granted = tuple(granted)
        method = self.authorize(name, granted)
        if body is INVALID_JSON:
            raise invalid("request body must be valid JSON")
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise invalid("request body must be a JSON object")
        return method.handler(self, Request(body, version, granted))

    def owner(self, request: Request) -> str:
        return owner_client_id(request.body, self.client_ids)

    def license_properties(self) -> dict[str, dict[str, Any]]:
        months = self.archive_retention_months
        return {
            LIMITS_NAMESPACE: {
                "archives_retention.base": months,
                "archives_retention.additional": 0,
                "archives_retention.hard": months,
            }
        }


def _register_webhook(api: ConfigurationApi, request: Request) -> object:
    hook = parse_webhook(request.body, request.version, api.client_ids)
    api.registry.register(hook)
    return {"id": hook.id}


def _list_webhooks(api: ConfigurationApi, request: Request) -> object:
    return [hook.listed() for hook in api.registry.webhooks(api.owner(request))]


def _unregister_webhook(api: ConfigurationApi, request: Request) -> object:
    webhook_id = text(request.body, "id", required=True)
    assert webhook_id is not None
    api.registry.unregister(webhook_id, api.owner(request))
    return {}


def _list_webhook_names(api: ConfigurationApi, request: Request) -> object:
    version = text(request.body, "version", required=False) or STABLE_VERSION
    if version not in CATALOGUE:
        raise invalid(f"`version` must be one of {', '.join(CATALOGUE)}")
    return [action.to_dict() for action in CATALOGUE[version]]


def _get_state(api: ConfigurationApi, request: Request) -> object:
    return {"license_webhooks_enabled": api.registry.enabled(api.owner(request))}


def _enable(api: ConfigurationApi, request: Request) -> object:
    api.registry.set_enabled(api.owner(request), True)
    return {}


def _disable(api: ConfigurationApi, request: Request) -> object:
    api.registry.set_enabled(api.owner(request), False)
    return {}


def _list_license_properties(api: ConfigurationApi, request: Request) -> object:
    namespace = text(request.body, "namespace", required=False)
    prefix = text(request.body, "name_prefix", required=False) or ""
    # `--my` reads the caller's own namespace only, and this license holds public ones only.
    if not scopes.holds(request.granted, scopes.LICENSE_PROPERTIES_ALL_RO):
        return {}
    answer: dict[str, dict[str, Any]] = {}
    for space, values in api.license_properties().items():
        if space not in PUBLIC_NAMESPACES or namespace not in (None, space):
            continue
        chosen = {name: value for name, value in values.items() if name.startswith(prefix)}
        if chosen:
            answer[space] = chosen
    return answer


_WEBHOOKS = (scopes.WEBHOOKS_CONFIGURATION_RW,)
METHODS: Mapping[str, Method] = {
    "register_webhook": Method(_register_webhook, _WEBHOOKS),
    "list_webhooks": Method(_list_webhooks, _WEBHOOKS),
    "unregister_webhook": Method(_unregister_webhook, _WEBHOOKS),
    "list_webhook_names": Method(_list_webhook_names, ()),
    "get_license_webhooks_state": Method(_get_state, (scopes.WEBHOOKS_STATE_RO,)),
    "enable_license_webhooks": Method(_enable, (scopes.WEBHOOKS_STATE_RW,)),
    "disable_license_webhooks": Method(_disable, (scopes.WEBHOOKS_STATE_RW,)),
    "list_license_properties": Method(
        _list_license_properties,
        (scopes.LICENSE_PROPERTIES_MY_RO, scopes.LICENSE_PROPERTIES_ALL_RO),
    ),
}
