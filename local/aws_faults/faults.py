"""Deciding, call by call, which fault to inject, and counting every one injected.

One lock guards one seeded random.Random, so a given sequence of calls meets the same
faults on every run with the same seed.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from local.aws_faults.config import LATENCY, FaultConfig, FaultRule
from local.aws_faults.operations import Call
from local.aws_faults.wire import AwsError

DEFAULT_SEED = 0
APPLIED = ":applied"  # suffix of the kind of a 5xx answered after the call was applied


class FaultKey(NamedTuple):
    service: str
    operation: str
    kind: str


@dataclass(frozen=True)
class Decision:
    delay_seconds: float = 0.0
    error: AwsError | None = None
    after: bool = False  # forward the call first, then answer `error`
    request_id: str = ""


NO_FAULT = Decision()


class Injector:
    def __init__(self, config: FaultConfig, seed: int | None = None) -> None:
        self._lock = threading.Lock()
        if seed is None:
            seed = DEFAULT_SEED if config.seed is None else config.seed
        self._seed = seed
        self._random = random.Random(seed)
        self._config = config
        self._left = [rule.times for rule in config.faults]
        self._counts: Counter[FaultKey] = Counter()
        self._requests: Counter[str] = Counter()

    def update(self, data: Mapping[str, Any]) -> None:
        """Apply a configuration document: `faults` replaces the rules (and their `times`
        budgets), `seed` reseeds, `enabled` switches injection; a key left out keeps its
        value. Counts go on adding up: they are what the whole run met."""
        config = FaultConfig.from_dict(data)  # validates everything before changing anything
        with self._lock:
            faults = config.faults if "faults" in data else self._config.faults
            enabled = config.enabled if "enabled" in data else self._config.enabled
            if "faults" in data:
                self._left = [rule.times for rule in faults]
            if config.seed is not None:
                self._seed = config.seed
                self._random.seed(config.seed)
            self._config = FaultConfig(faults, self._seed, enabled)

    def decide(self, call: Call) -> Decision:
        if not call.service:
            return NO_FAULT  # not an AWS API call (moto's own routes)
        with self._lock:
            self._requests[call.service] += 1
            if not self._config.enabled:
                return NO_FAULT
            delay = 0.0
            chosen: FaultRule | None = None
            error: AwsError | None = None
            for index, rule in enumerate(self._config.faults):
                if not rule.matches(call):
                    continue
                if rule.kind == LATENCY:
                    if self._fires(index, rule):
                        delay += self._random.uniform(rule.min_ms, rule.max_ms) / 1000
                        self._counts[FaultKey(call.service, call.operation, LATENCY)] += 1
                    continue
                candidate = rule.error_on(call.service)
                if error is None and candidate is not None and self._fires(index, rule):
                    chosen, error = rule, candidate
            if chosen is None or error is None:
                return Decision(delay_seconds=delay)
            kind = error.code + (APPLIED if chosen.after else "")
            self._counts[FaultKey(call.service, call.operation, kind)] += 1
            request_id = str(uuid.UUID(int=self._random.getrandbits(128), version=4))
            return Decision(delay, error, chosen.after, request_id)

    def _fires(self, index: int, rule: FaultRule) -> bool:
        left = self._left[index]
        if left is not None and left <= 0:
            return False
        if self._random.random() >= rule.probability:
            return False
        if left is not None:
            self._left[index] = left - 1
        return True

    def counts(self) -> dict[FaultKey, int]:
        with self._lock:
            return dict(self._counts)

    def snapshot(self) -> dict[str, Any]:
        """The state `GET /_faults` answers: configuration, calls seen, faults injected."""
        with self._lock:
            config = self._config.to_dict() | {"seed": self._seed}
            injected = [
                {"service": key.service, "operation": key.operation, "kind": key.kind, "count": n}
                for key, n in sorted(self._counts.items())
            ]
            return config | {
                "requests": dict(sorted(self._requests.items())),
                "injected_total": sum(self._counts.values()),
                "injected": injected,
            }
