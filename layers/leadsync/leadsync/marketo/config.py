"""Where Marketo lives and the limits one client call must respect; every figure is configuration.

Defaults are Marketo's published ones (marketo.md); subscriptions differ, so nothing below is
a constant baked into the client.
"""

from __future__ import annotations

from dataclasses import dataclass

# Marketo's own server timeouts: waiting longer than these only delays the 604 it will send.
LEAD_CALL_SERVER_TIMEOUT_S = 30.0
GET_BY_FILTER_SERVER_TIMEOUT_S = 60.0


def _base(url: str, *, strip: str = "") -> str:
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {url!r}")
    # Marketo's admin page shows the REST endpoint as https://<munchkin>.mktorest.com/rest,
    # while the bulk API lives beside it (/bulk): keep the host root only.
    if strip and url.endswith(strip):
        url = url[: -len(strip)]
    return url


@dataclass(frozen=True)
class MarketoEndpoints:
    """`rest_url`: the instance root (trailing /rest accepted); `identity_url`: ../identity."""

    rest_url: str
    identity_url: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "rest_url", _base(self.rest_url, strip="/rest"))
        object.__setattr__(self, "identity_url", _base(self.identity_url))


@dataclass(frozen=True)
class MarketoClientConfig:
    records_per_call: int = 300
    max_body_bytes: int = 1_048_576
    max_uri_bytes: int = 8_192
    bulk_max_file_bytes: int = 10_485_760
    connect_timeout_s: float = 5.0
    read_timeout_s: float = LEAD_CALL_SERVER_TIMEOUT_S
    lookup_read_timeout_s: float = GET_BY_FILTER_SERVER_TIMEOUT_S
    bulk_read_timeout_s: float = 60.0
    # never wait less than this for an answer, even when the deadline is closer
    min_read_timeout_s: float = 1.0
    # how long the default deadline lets a call wait for a permit
    default_wait_s: float = 10.0
    # ask for a new token this long before Marketo says the current one expires
    token_refresh_margin_s: float = 60.0
    # hints carried by the exceptions; the limiter and the caller decide what to do with them
    rate_window_s: float = 20.0
    concurrency_retry_s: float = 1.0
    bulk_busy_retry_s: float = 60.0
    quota_timezone: str = "America/Chicago"

    def __post_init__(self) -> None:
        for name in ("records_per_call", "max_body_bytes", "max_uri_bytes", "bulk_max_file_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive")
        for name in (
            "connect_timeout_s",
            "read_timeout_s",
            "lookup_read_timeout_s",
            "bulk_read_timeout_s",
            "min_read_timeout_s",
            "default_wait_s",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")
        if self.read_timeout_s > LEAD_CALL_SERVER_TIMEOUT_S:
            raise ValueError("read_timeout_s must not exceed Marketo's 30 s lead-call timeout")
        if self.lookup_read_timeout_s > GET_BY_FILTER_SERVER_TIMEOUT_S:
            raise ValueError("lookup_read_timeout_s must not exceed Marketo's 60 s timeout")
