"""Marketo identity: client-credentials tokens, cached until shortly before they expire.

Identity calls take no limiter permit: Marketo counts them against neither quota nor rate.
The secret lives in a SecretStr and never appears in a message: request errors are reported
by type only, because their text holds the URL and the URL holds the secret.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from urllib.parse import urlencode

import requests
from pydantic import SecretStr

from leadsync.marketo.classify import error_for_status, error_for_transport
from leadsync.marketo.config import MarketoClientConfig
from leadsync.marketo.errors import MarketoBadResponse, MarketoCredentialsError


class TokenProvider:
    def __init__(
        self,
        identity_url: str,
        client_id: str,
        client_secret: SecretStr,
        session: requests.Session,
        config: MarketoClientConfig,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        on_call: Callable[[], None] = lambda: None,
    ) -> None:
        self._url = f"{identity_url}/oauth/token"
        self._client_id = client_id
        self._secret = client_secret
        self._session = session
        self._config = config
        self._monotonic = monotonic
        self._on_call = on_call
        self._token: str | None = None
        self._fresh_until = 0.0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TokenProvider({self._url!r}, client_id={self._client_id!r})"

    def token(self) -> str:
        with self._lock:
            if self._token is None or self._monotonic() >= self._fresh_until:
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
                "client_id": self._client_id,
                "client_secret": self._secret.get_secret_value(),
            }
        )
        started = self._monotonic()
        self._on_call()
        try:
            response = self._session.get(
                f"{self._url}?{query}",
                headers={"Accept": "application/json"},
                timeout=(self._config.connect_timeout_s, self._config.read_timeout_s),
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
        margin = self._config.token_refresh_margin_s
        self._fresh_until = started + (lifetime - margin if lifetime > margin else lifetime)
