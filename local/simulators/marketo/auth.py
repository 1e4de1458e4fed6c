"""OAuth client-credentials tokens: one live token per client, reused until it expires;
the identity endpoint's answer; the bearer header REST calls carry them in."""

from __future__ import annotations

import random
import threading
import uuid
from dataclasses import dataclass

from .http_io import Request, Response


@dataclass
class Token:
    value: str
    client_id: str
    user_id: str
    expires_at: float
    calls: int = 0


class TokenStore:
    def __init__(self, users: dict[str, tuple[str, str]], lifetime: int, seed: int) -> None:
        self._users = users
        self.lifetime = lifetime
        self._rng = random.Random(f"tokens-{seed}")
        self._tokens: dict[str, Token] = {}
        self._current: dict[str, Token] = {}
        self._lock = threading.Lock()

    def issue(self, client_id: str, client_secret: str, now: float) -> Token | None:
        """The client's live token, or a new one; None on bad credentials."""
        known = self._users.get(client_id)
        if known is None or known[0] != client_secret:
            return None
        with self._lock:
            current = self._current.get(client_id)
            if current is not None and current.expires_at > now:
                return current
            value = f"{uuid.UUID(int=self._rng.getrandbits(128), version=4)}:sim"
            token = Token(value, client_id, known[1], now + self.lifetime)
            self._tokens[value] = token
            self._current[client_id] = token
            return token

    def check(self, value: str | None, now: float, expire_every: int) -> Token | str:
        """The token, or the error code (601 unknown, 602 expired)."""
        with self._lock:
            token = self._tokens.get(value or "")
            if token is None:
                return "601"
            if token.expires_at <= now:
                return "602"
            token.calls += 1
            if expire_every > 0 and token.calls > expire_every:
                token.expires_at = now
                return "602"
            return token

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()
            self._current.clear()


def bearer_token(header: str) -> str | None:
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def identity_answer(tokens: TokenStore, req: Request, now: float) -> Response:
    if req.param("grant_type") != "client_credentials":
        return Response.json(
            {"error": "invalid_request", "error_description": "Unsupported grant type"}, 400
        )
    token = tokens.issue(req.param("client_id") or "", req.param("client_secret") or "", now)
    if token is None:
        return Response.json(
            {"error": "unauthorized", "error_description": "Bad client credentials"}, 401
        )
    return Response.json(
        {
            "access_token": token.value,
            "token_type": "bearer",
            "expires_in": max(0, int(token.expires_at - now)),
            "scope": token.user_id,
        }
    )
