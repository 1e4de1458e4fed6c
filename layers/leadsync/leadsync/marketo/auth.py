"""Marketo identity: client-credentials tokens, cached until shortly before they expire.

Identity calls take no limiter permit: Marketo counts them against neither quota nor rate.
The secret lives in a SecretStr and never appears in a message: request errors are reported
by type only, because their text holds the URL and the URL holds the secret.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import KW_ONLY, dataclass, field
from urllib.parse import urlencode

import requests
from pydantic import SecretStr

from leadsync.marketo.classify import error_for_status, error_for_transport
from leadsync.marketo.config import MarketoClientConfig
from leadsync.marketo.errors import MarketoBadResponse, MarketoCredentialsError


@dataclass(eq=False, repr=False)
class TokenProvider:
    """The client's current token (one, shared by its threads), fetched when missing, close
    to expiry, or refused."""

    identity_url: str
    client_id: str
    client_secret: SecretStr
    session: requests.Session
    config: MarketoClientConfig
    _: KW_ONLY
    monotonic: Callable[[], float] = time.monotonic
    on_call: Callable[[], None] = lambda: None
    _token: str | None = field(default=None, init=False)
    _fresh_until: float = field(default=0.0, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    @property
    def url(self) -> str:
        return f"{self.identity_url}/oauth/token"

    def __repr__(self) -> str:
        return f"TokenProvider({self.url!r}, client_id={self.client_id!r})"

    def token(self) -> str:
        with self._lock:
            if self._token is None or self.monotonic() >= self._fresh_until:
                self._fetch()
            assert self._token is not None
            return self._token

    def invalidate(self, rejected: str | None = None) -> None:
        """Forget the token Marketo refused (unless another thread already replaced it)."""
        with self._lock:
            if rejected is None or rejected == self._token:
                self._token = None

    def _fetch(self) -> None:
        query = urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self.client_secret.get_secret_value(),
            }
        )
        started = self.monotonic()
        self.on_call()
        try:
            response = self.session.get(
                f"{self.url}?{query}",
                headers={"Accept": "application/json"},
                timeout=(self.config.connect_timeout_s, self.config.read_timeout_s),
            )
        except requests.RequestException as exc:
            raise error_for_transport(exc) from None  # `from None`: exc's text holds the secret
        if response.status_code == 401:
            raise MarketoCredentialsError("client id or secret refused", http_status=401)
        if response.status_code != 200:
            raise error_for_status(response.status_code)
        try:
            body = response.json()
            token = str(body["access_token"])
            lifetime = float(body.get("expires_in", 0))
        except (ValueError, KeyError, TypeError):
            raise MarketoBadResponse(
                "local:bad-token", "identity answer has no access_token", http_status=200
            ) from None
        if not token:
            raise MarketoBadResponse("local:bad-token", "identity answered an empty token")
        self._token = token
        # Refresh a margin before expiry. Marketo hands back the SAME token while it lives, so a
        # token already inside the margin is kept to its end (a 602 then replaces it) rather
        # than re-fetched before every call.
        margin = self.config.token_refresh_margin_s
        self._fresh_until = started + (lifetime - margin if lifetime > margin else lifetime)
