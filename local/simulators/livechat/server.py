"""The LiveChat simulator: a real HTTP server on loopback, usable in-process or as a CLI."""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Callable, Iterable, Mapping, Sequence
from http.server import ThreadingHTTPServer
from typing import Any, Self

from local.serving import BackgroundServer, Served
from local.simulators.livechat import scopes as scope_names
from local.simulators.livechat.archives import PageRegistry, list_archives
from local.simulators.livechat.audit import Audit
from local.simulators.livechat.configuration import (
    DEFAULT_ARCHIVE_RETENTION_MONTHS,
    DEFAULT_CLIENT_ID,
    ConfigurationApi,
)
from local.simulators.livechat.data import Chat, Dataset, GenerationParams
from local.simulators.livechat.errors import INVALID_JSON, ApiError
from local.simulators.livechat.faults import KINDS, FaultConfig, Faults
from local.simulators.livechat.handler import API_VERSIONS as API_VERSIONS
from local.simulators.livechat.handler import handler_for
from local.simulators.livechat.injection import Injector
from local.simulators.livechat.registration import Webhook, parse_webhook
from local.simulators.livechat.registry import WebhookRegistry
from local.simulators.livechat.store import ChatStore
from local.simulators.livechat.webhooks import (
    DEFAULT_ORGANIZATION_ID,
    MAX_RETRIES,
    DeliveryResult,
)

DEFAULT_ACCOUNT_ID = "leadsync-sim-account"
DEFAULT_TOKEN = "leadsync-sim-token"  # noqa: S105 - a public, simulator-only credential
DEFAULT_SCOPES = scope_names.DEFAULT_SCOPES
FULL_SCOPES = scope_names.FULL_SCOPES


class LiveChatSimulator(Served):
    """In-process handle: `with LiveChatSimulator(params) as sim: ... sim.base_url ...`."""

    def __init__(
        self,
        params: GenerationParams | None = None,
        *,
        account_id: str = DEFAULT_ACCOUNT_ID,
        token: str = DEFAULT_TOKEN,
        scopes: Iterable[str] = DEFAULT_SCOPES,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: FaultConfig | None = None,
        chats: Iterable[Mapping[str, Any]] = (),
        client_ids: Iterable[str] = (DEFAULT_CLIENT_ID,),
        archive_retention_months: int = DEFAULT_ARCHIVE_RETENTION_MONTHS,
        license_webhooks_enabled: bool = True,
        organization_id: str = DEFAULT_ORGANIZATION_ID,
    ) -> None:
        self.params = params or GenerationParams()
        self.account_id = account_id
        self._token = token
        self.scopes = frozenset(scopes)
        self.host, self.port = host, port
        self.organization_id = organization_id
        self._initial_faults = faults or FaultConfig()
        self._initial_chats = [dict(chat) for chat in chats]
        self.faults = Faults(FaultConfig(**self._initial_faults.to_dict()))
        self.audit = Audit(KINDS)
        self.pages = PageRegistry()
        self.injector = Injector(self.faults, self.audit, self.pages)
        self.store = self._fresh_store()
        self.registry = WebhookRegistry(license_webhooks_enabled=license_webhooks_enabled)
        self.configuration_api = ConfigurationApi(
            self.registry,
            client_ids=client_ids,
            archive_retention_months=archive_retention_months,
        )
        self._serving: BackgroundServer | None = None

    def _fresh_store(self) -> ChatStore:
        store = ChatStore([Dataset(self.params)])
        if self._initial_chats:
            store.add_chats(self._initial_chats)
        return store

    # Life cycle

    def start(self) -> Self:
        if self._serving is not None:
            return self
        self.injector.open()
        server = ThreadingHTTPServer((self.host, self.port), handler_for(self))
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._serving = BackgroundServer(server, "livechat-simulator").start()
        return self

    def stop(self) -> None:
        if self._serving is None:
            return
        self.injector.release()
        self._serving.stop()
        self._serving = None

    def serve_forever(self) -> None:
        """Blocking variant for the command line."""
        self.start()
        assert self._serving is not None
        try:
            self._serving.wait()
        finally:
            self.stop()

    # Addresses and credentials

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """What LiveChat's `https://api.livechatinc.com/v3.6/agent/action` becomes."""
        return f"{self.base_url}/v3.6/agent/action"

    @property
    def configuration_url(self) -> str:
        """What `https://api.livechatinc.com/v3.6/configuration/action` becomes."""
        return f"{self.base_url}/v3.6/configuration/action"

    @property
    def authorization(self) -> str:
        raw = f"{self.account_id}:{self._token}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")

    @property
    def client_ids(self) -> tuple[str, ...]:
        """The Client IDs (Developer Console apps) the organization owns."""
        return self.configuration_api.client_ids

    @property
    def archive_retention_months(self) -> int:
        return self.configuration_api.archive_retention_months

    # Test controls (also reachable over HTTP under /_sim)

    def add_chats(self, chats: Iterable[Mapping[str, Any]]) -> tuple[int, int]:
        return self.store.add_chats(chats)

    def add_generated(self, params: GenerationParams) -> int:
        return self.store.add_dataset(Dataset(params))

    def set_faults(self, **settings: Any) -> FaultConfig:
        return self.faults.configure(settings)

    def fault_counts(self) -> dict[str, int]:
        """Faults injected since the start (or the last reset), by kind."""
        return self.audit.fault_counts()

    def expire_pages(self) -> int:
        """Expire every page id handed out so far, as if a month had passed; how many."""
        return self.pages.expire_all()

    def reset(self) -> None:
        """Back to the generated dataset, no faults, empty audit, no page ids, no webhooks."""
        self.store = self._fresh_store()
        self.faults.reset(FaultConfig(**self._initial_faults.to_dict()))
        self.audit.clear()
        self.pages.clear()
        self.registry.clear()

    def all_chats(self) -> list[Chat]:
        with self.store.lock:
            return list(self.store.chats())

    def webhooks(self) -> list[Webhook]:
        """Every registered webhook, in registration order, secret keys included."""
        return self.registry.webhooks()

    def register_webhook(
        self,
        url: str,
        *,
        action: str = "incoming_chat",
        secret_key: str,
        owner_client_id: str | None = None,
        type: str = "license",
        description: str | None = None,
        filters: Mapping[str, Any] | None = None,
        additional_data: Sequence[str] | None = None,
        version: str = "3.6",
    ) -> Webhook:
        """Register as `register_webhook` would (same validation and limit), no token needed."""
        body: dict[str, Any] = {
            "url": url,
            "action": action,
            "secret_key": secret_key,
            "owner_client_id": owner_client_id or self.client_ids[0],
            "type": type,
            "description": description,
            "filters": dict(filters) if filters is not None else None,
            "additional_data": list(additional_data) if additional_data is not None else None,
        }
        return self.registry.register(parse_webhook(body, version, self.client_ids))

    def deliver_registered(
        self,
        action: str,
        chat: Mapping[str, Any] | str,
        *,
        timeout: float = 10.0,
        retries: int = MAX_RETRIES,
        retry_delays: Sequence[float] = (0.0,),
        sleep: Callable[[float], None] | None = None,
    ) -> list[DeliveryResult]:
        """Send a chat event (a chat, or the id of a stored one) to every webhook it reaches."""
        if isinstance(chat, str):
            found = self.store.find(chat)
            if found is None:
                raise KeyError(f"no chat {chat}")
            chat = found
        return self.registry.deliver(
            action,
            chat,
            organization_id=self.organization_id,
            timeout=timeout,
            retries=retries,
            retry_delays=retry_delays,
            sleep=sleep,
        )

    # Request handling (called from server threads)

    def authenticate(self, header: str | None) -> None:
        """A Personal Access Token over Basic auth: `account_id:token`."""
        if not header or not header.startswith("Basic "):
            raise ApiError("authentication", "Invalid access token")
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise ApiError("authentication", "Invalid access token") from exc
        account, _, token = decoded.partition(":")
        good_account = hmac.compare_digest(account.encode(), self.account_id.encode())
        good_token = hmac.compare_digest(token.encode(), self._token.encode())
        if not (good_account and good_token):
            raise ApiError("authentication", "Invalid access token")

    def archives(
        self, header: str | None, body: object, injected: list[str] | None = None
    ) -> dict[str, Any]:
        """One list_archives call; the faults injected into it are added to `injected`."""
        self.authenticate(header)
        scope_names.require(self.scopes, scope_names.CHATS_ALL_RO, scope_names.CHATS_ACCESS_RO)
        self.injector.archives(body, [] if injected is None else injected)
        if body is INVALID_JSON:
            raise ApiError("validation", "request body must be valid JSON")
        return list_archives(self.store, self.pages, body)

    def configure(
        self,
        method: str,
        header: str | None,
        body: object,
        version: str,
        injected: list[str] | None = None,
    ) -> object:
        """One Configuration API call: `method` as in `/configuration/action/<method>`."""
        if self.configuration_api.method(method).needs_token:
            self.authenticate(header)
            self.configuration_api.authorize(method, self.scopes)
        self.injector.configuration([] if injected is None else injected)
        return self.configuration_api.call(method, body, granted=self.scopes, version=version)
