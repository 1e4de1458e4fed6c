"""What the proxy injects, as plain JSON:

    {"seed": 7, "enabled": true, "faults": [
      {"service": "dynamodb", "operation": "*", "kind": "throttling", "probability": 0.02},
      {"service": "sqs", "operation": "SendMessage*", "kind": "ServiceUnavailable",
       "probability": 0.01, "after": true},
      {"service": "*", "operation": "*", "kind": "latency", "probability": 0.1,
       "min_ms": 20, "max_ms": 200},
      {"service": "s3", "operation": "PutObject", "kind": "SlowDown", "probability": 1,
       "times": 2}]}

`service` is the boto3 client name (dynamodb, sqs, s3, ses, sesv2, secretsmanager, ...) and
`operation` the API operation (PutItem, SendMessage, ...) or a list of them; both take shell
wildcards and default to "*". `kind` is `latency`, an error code of the service
(wire.CATALOG) or `throttling` / `server_error`, the service's usual error of that family.
`after` (a 5xx other than throttling) forwards the call and answers the error anyway, as AWS
warns a 5xx may come after the call was applied. `times` caps how often the rule fires.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from local.aws_faults.operations import Call
from local.aws_faults.wire import ALIASES, CATALOG, AwsError, resolve

LATENCY = "latency"
# Deployment and identity calls: the harness must be able to rely on them, so only a rule
# that names one of these services outright touches it.
PROTECTED = frozenset({"cloudformation", "lambda", "sts", "iam"})

KINDS = sorted({LATENCY, *ALIASES, *(code for errors in CATALOG.values() for code in errors)})
_RULE_KEYS = frozenset(
    {"service", "operation", "kind", "probability", "min_ms", "max_ms", "after", "times"}
)
_CONFIG_KEYS = frozenset({"seed", "enabled", "faults"})


@dataclass(frozen=True)
class FaultRule:
    service: str
    operations: tuple[str, ...]
    kind: str
    probability: float
    min_ms: int = 0
    max_ms: int = 0
    after: bool = False
    times: int | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError(f"{self.kind}: probability must be within 0..1")
        if self.times is not None and self.times < 0:
            raise ValueError(f"{self.kind}: times must not be negative")
        if self.kind == LATENCY:
            if not 0 <= self.min_ms <= self.max_ms:
                raise ValueError("latency: need 0 <= min_ms <= max_ms")
            if self.after:
                raise ValueError("latency: `after` applies to 5xx errors other than throttling")
            return
        errors = [resolve(service, self.kind) for service in self._services()]
        known = [error for error in errors if error is not None]
        if not known:
            raise ValueError(
                f"no service matching {self.service!r} has an error {self.kind!r}; "
                f"kinds: {', '.join(KINDS)}"
            )
        if self.after and not all(error.may_be_applied for error in known):
            raise ValueError(f"{self.kind}: `after` applies to 5xx errors other than throttling")

    def _services(self) -> list[str]:
        return [service for service in CATALOG if self.covers(service)]

    def covers(self, service: str) -> bool:
        if service in PROTECTED:
            return self.service == service
        return fnmatchcase(service, self.service)

    def matches(self, call: Call) -> bool:
        return (
            bool(call.service)
            and self.covers(call.service)
            and any(fnmatchcase(call.operation, pattern) for pattern in self.operations)
        )

    def error_on(self, service: str) -> AwsError | None:
        return None if self.kind == LATENCY else resolve(service, self.kind)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FaultRule:
        unknown = set(data) - _RULE_KEYS
        if unknown:
            raise ValueError(f"unknown fault keys: {', '.join(sorted(unknown))}")
        missing = [key for key in ("kind", "probability") if key not in data]
        if missing:
            raise ValueError(f"a fault needs {' and '.join(missing)}")
        times = data.get("times")
        return cls(
            service=_text(data, "service"),
            operations=_patterns(data.get("operation", "*")),
            kind=str(data["kind"]),
            probability=_number(data["probability"], "probability"),
            min_ms=_integer(data.get("min_ms", 0), "min_ms"),
            max_ms=_integer(data.get("max_ms", data.get("min_ms", 0)), "max_ms"),
            after=_flag(data.get("after", False), "after"),
            times=None if times is None else _integer(times, "times"),
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "service": self.service,
            "operation": self.operations[0] if len(self.operations) == 1 else list(self.operations),
            "kind": self.kind,
            "probability": self.probability,
        }
        if self.kind == LATENCY:
            data |= {"min_ms": self.min_ms, "max_ms": self.max_ms}
        if self.after:
            data["after"] = True
        if self.times is not None:
            data["times"] = self.times
        return data


@dataclass(frozen=True)
class FaultConfig:
    faults: tuple[FaultRule, ...] = field(default_factory=tuple)
    seed: int | None = None
    enabled: bool = True

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FaultConfig:
        unknown = set(data) - _CONFIG_KEYS
        if unknown:
            raise ValueError(f"unknown config keys: {', '.join(sorted(unknown))}")
        faults = data.get("faults", [])
        if not isinstance(faults, list):
            raise ValueError("faults must be a list")
        seed = data.get("seed")
        return cls(
            faults=tuple(FaultRule.from_dict(rule) for rule in faults),
            seed=None if seed is None else _integer(seed, "seed"),
            enabled=_flag(data.get("enabled", True), "enabled"),
        )

    @classmethod
    def load(cls, path: Path) -> FaultConfig:
        return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"enabled": self.enabled, "faults": []}
        data["faults"] = [rule.to_dict() for rule in self.faults]
        if self.seed is not None:
            data["seed"] = self.seed
        return data


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key, "*")
    if not isinstance(value, str) or not value:
        raise ValueError(f"{key} must be a non-empty string")
    return value


def _patterns(value: Any) -> tuple[str, ...]:
    patterns = [value] if isinstance(value, str) else value
    if (
        not isinstance(patterns, list)
        or not patterns
        or not all(isinstance(p, str) and p for p in patterns)
    ):
        raise ValueError("operation must be a non-empty string or list of strings")
    return tuple(patterns)


def _number(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{key} must be a number")
    return float(value)


def _integer(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{key} must be a whole number")
    return value


def _flag(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false")
    return value
