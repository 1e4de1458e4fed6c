"""Switchable faults for API requests: which request fails, how, and how slowly.

Two families live side by side. The counted ones (`*_every`, `*_next`, `delay_seconds`) hit
every API request, Configuration API calls included, exactly as before. The probabilistic
ones (`*_probability`) hit list_archives only, unless `include_configuration_api` is set;
each request's draws come from its own generator seeded by (`seed`, the request's number),
so requests arriving in the same order meet the same faults for a seed, whatever the other
settings are.

What LiveChat documents, and what follows from it:
- `too_many_requests` ("Too many requests", lifted "after some time"): no Retry-After header
  is documented, so none is sent.
- An expired or unknown `page_id`: no error type is documented; the simulator answers
  `validation` (400), the type LiveChat uses for a request it cannot accept as written.
- A 502 with an HTML page, or a connection closed without an answer, are not LiveChat's
  errors but what a load balancer or a network in front of it does.
"""

from __future__ import annotations

import dataclasses
import random
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from local.simulators.livechat.audit import Audit as Audit
from local.simulators.livechat.errors import ApiError

RATE_LIMIT = "rate_limit"
INTERNAL = "internal"
BAD_GATEWAY = "bad_gateway"
TIMEOUT = "timeout"
SLOW = "slow"
DELAY = "delay"
PAGE_EXPIRED = "page_expired"
KINDS = (RATE_LIMIT, INTERNAL, BAD_GATEWAY, TIMEOUT, SLOW, DELAY, PAGE_EXPIRED)


def _setting(default: Any, text: str) -> Any:
    return field(default=default, metadata={"help": text})


@dataclass
class FaultConfig:
    rate_limit_every: int = _setting(0, "every Nth API request answers 429 too_many_requests")
    rate_limit_next: int = _setting(0, "the next K API requests answer 429")
    internal_every: int = _setting(0, "every Nth API request answers 500 internal")
    internal_next: int = _setting(0, "the next K API requests answer 500")
    delay_seconds: float = _setting(0.0, "a pause before every API answer")
    seed: int = _setting(0, "seeds the probabilistic faults (setting it restarts their sequence)")
    rate_limit_probability: float = _setting(0.0, "chance of a 429 too_many_requests")
    internal_probability: float = _setting(0.0, "chance of a 500 internal")
    bad_gateway_probability: float = _setting(0.0, "chance of a 502 with an HTML page")
    slow_probability: float = _setting(0.0, "chance of a slow answer")
    slow_min_seconds: float = _setting(1.0, "shortest slow answer")
    slow_max_seconds: float = _setting(5.0, "longest slow answer")
    timeout_probability: float = _setting(
        0.0, "chance that the request is held, then the connection closed without an answer"
    )
    # Longer than leadsync's 20 s read timeout, so its client gives up first.
    timeout_hold_seconds: float = _setting(25.0, "how long a timed-out request is held")
    page_expire_probability: float = _setting(
        0.0, "chance that a request's page_id expires just before it is read"
    )
    include_configuration_api: bool = _setting(
        False, "the probabilistic faults hit Configuration API calls too"
    )

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> FaultConfig:
        config = cls()
        config.update(data)
        return config

    def update(self, data: Mapping[str, Any]) -> None:
        """Apply settings all or nothing: a refused one leaves the config as it was."""
        kinds = {f.name: f.type for f in dataclasses.fields(self)}
        unknown = set(data) - set(kinds)
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        fresh = dataclasses.replace(self)
        for name, value in data.items():
            setattr(fresh, name, _checked(name, kinds[name], value))
        if fresh.slow_min_seconds > fresh.slow_max_seconds:
            raise ValueError("slow_min_seconds must not exceed slow_max_seconds")
        for name in kinds:
            setattr(self, name, getattr(fresh, name))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @staticmethod
    def help() -> dict[str, str]:
        return {f.name: str(f.metadata["help"]) for f in dataclasses.fields(FaultConfig)}


def _checked(name: str, kind: object, value: object) -> int | float | bool:
    # The annotations are strings (postponed evaluation): compare them as written.
    if kind == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be true or false")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number")
    if name == "seed":
        if not isinstance(value, int):
            raise ValueError("seed must be an integer")
        return value
    if value < 0:
        raise ValueError(f"{name} must be a number >= 0")
    if kind == "int" and not isinstance(value, int):
        raise ValueError(f"{name} must be an integer")
    if name.endswith("_probability") and value > 1:
        raise ValueError(f"{name} must be within 0..1")
    return value


@dataclass(frozen=True)
class Verdict:
    """What one API request gets."""

    failure: str | None = None  # RATE_LIMIT | INTERNAL | BAD_GATEWAY | TIMEOUT
    delay: float = 0.0  # seconds before the answer
    hold: float = 0.0  # TIMEOUT: seconds the request is held before its connection closes
    expire_page: bool = False  # the request's page_id expires before it is read
    kinds: tuple[str, ...] = ()  # the faults injected, for the counts

    def error(self) -> ApiError | None:
        if self.failure == RATE_LIMIT:
            return ApiError("too_many_requests", "Requests limit exceeded. Try again later.")
        if self.failure == INTERNAL:
            return ApiError("internal", "Internal server error")
        return None


class Faults:
    """Decides, per API request, whether it fails; thread-safe."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self.config = config or FaultConfig()
        self.requests = 0  # every API request: the counted faults' clock
        self.drawn = 0  # requests the probabilistic faults were drawn for

    def configure(self, data: Mapping[str, Any]) -> FaultConfig:
        with self._lock:
            fresh = dataclasses.replace(self.config)
            fresh.update(data)
            self.config = fresh
            if "seed" in data:
                self.drawn = 0
            return fresh

    def reset(self, config: FaultConfig | None = None) -> None:
        with self._lock:
            self.config = config or FaultConfig()
            self.requests = 0
            self.drawn = 0

    def decide(self, *, archives: bool, page_id: bool = False) -> Verdict:
        """The verdict for one request: `archives` for list_archives (else a Configuration API
        call), `page_id` when the request pages on with one."""
        with self._lock:
            self.requests += 1
            c = self.config
            failure = self._counted(c, self.requests)
            delay = c.delay_seconds
            kinds = [DELAY] if delay else []
            expire = False
            if archives or c.include_configuration_api:
                self.drawn += 1
                draw = _Draw(c, self.drawn)
                failure = failure or draw.failure
                expire = archives and page_id and draw.expire and failure is None
                if draw.slow is not None and failure != TIMEOUT:
                    delay += draw.slow
                    kinds.append(SLOW)
            if failure is not None:
                kinds.insert(0, failure)
            hold = c.timeout_hold_seconds if failure == TIMEOUT else 0.0
            return Verdict(failure, delay, hold, expire, tuple(kinds))

    @staticmethod
    def _counted(c: FaultConfig, n: int) -> str | None:
        """The every-N / next-K faults; the `*_next` counters are used up in place."""
        if c.rate_limit_next > 0:
            c.rate_limit_next -= 1
            return RATE_LIMIT
        if c.internal_next > 0:
            c.internal_next -= 1
            return INTERNAL
        if c.rate_limit_every and n % c.rate_limit_every == 0:
            return RATE_LIMIT
        if c.internal_every and n % c.internal_every == 0:
            return INTERNAL
        return None


class _Draw:
    """One request's probabilistic faults. Every draw is made, in a fixed order, whatever the
    settings: changing one setting never changes another's draws (a failure earlier in the
    order still wins when both hit)."""

    def __init__(self, c: FaultConfig, number: int) -> None:
        # A string seed is hashed with SHA-512: the same on every run and every machine.
        rng = random.Random(f"livechat-faults/{c.seed}/{number}")
        hits = {
            TIMEOUT: rng.random() < c.timeout_probability,
            BAD_GATEWAY: rng.random() < c.bad_gateway_probability,
            INTERNAL: rng.random() < c.internal_probability,
            RATE_LIMIT: rng.random() < c.rate_limit_probability,
        }
        self.failure = next((kind for kind, hit in hits.items() if hit), None)
        self.expire = rng.random() < c.page_expire_probability
        slow = rng.random() < c.slow_probability
        seconds = rng.uniform(c.slow_min_seconds, c.slow_max_seconds)
        self.slow = seconds if slow else None
