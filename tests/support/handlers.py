"""Import a function's handler module from functions/<name>/ as Lambda would."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    import pytest

    from local.simulators.marketo import MarketoSimulator

ROOT = Path(__file__).resolve().parents[2]


def load_handler(function: str) -> ModuleType:
    """`load_handler("fetch")` imports functions/fetch/fetch_handler.py once."""
    name = f"{function}_handler"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(
        name, ROOT / "functions" / function / f"{name}.py"
    )
    if spec is None or spec.loader is None:
        raise ImportError(name)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def fresh_handler(function: str) -> ModuleType:
    """The handler of `function`, its environment read again on its next call."""
    module = load_handler(function)
    module.environment.cache_clear()
    return module


def event(name: str) -> dict[str, object]:
    import json

    loaded: dict[str, object] = json.loads((ROOT / "events" / name).read_text())
    return loaded


def start_marketo(**overrides: object) -> MarketoSimulator:
    """The Marketo simulator on loopback, taking the test credentials, no write delay."""
    from local.simulators.marketo import MarketoSimulator, SimulatorConfig
    from tests.support.credentials import SECRET

    config = SimulatorConfig(
        client_id=SECRET["marketo_client_id"],
        client_secret=SECRET["marketo_client_secret"],
        host="127.0.0.1",
        port=0,
        write_delay_ms=0,
    )
    return MarketoSimulator(config.updated(dict(overrides))).start()


def put_secret(marketo: MarketoSimulator, **values: str) -> str:
    """A credentials secret in (emulated) Secrets Manager pointing at the simulator."""
    import json
    import uuid

    import boto3

    from tests.support.credentials import SECRET

    name = f"leadsync-{uuid.uuid4().hex[:8]}/credentials"
    secret = {
        **SECRET,
        "marketo_rest_url": marketo.base_url,
        "marketo_identity_url": f"{marketo.base_url}/identity",
        **values,
    }
    boto3.client("secretsmanager").create_secret(Name=name, SecretString=json.dumps(secret))
    return name


def forget_cached_clients() -> None:
    """Drop the AWS clients (and Powertools' parameter providers) a handler cached, so the
    next call reaches the endpoint the environment names now."""
    from aws_lambda_powertools.utilities.parameters import base

    from leadsync.adapters import aws

    aws.reset_clients()
    vars(base)["DEFAULT_PROVIDERS"].clear()


# the limits the template's parameters give every function, at test scale
LIMITS = {
    "MARKETO_CALLS_PER_WINDOW": "50",
    "MARKETO_WINDOW_SECONDS": "20",
    "MARKETO_MAX_IN_FLIGHT": "5",
    "MARKETO_DAILY_CAP": "25000",
    "MARKETO_DAILY_QUOTA": "50000",
    "MARKETO_QUOTA_TIMEZONE": "America/Chicago",
    "MARKETO_RECORDS_PER_CALL": "50",
    "MARKETO_MAX_BODY_BYTES": "1048576",
}


def upload_handler(
    monkeypatch: pytest.MonkeyPatch,
    secret: str,
    state_table: str,
    queues: Mapping[str, str],
    **settings: str,
) -> ModuleType:
    """The upload handler with its environment pointing at moto, the credentials `secret`
    and the queues {"sync": url, "dlq": url}; nothing kept from an earlier test."""
    for key, value in {
        **LIMITS,
        "STATE_TABLE": state_table,
        "CREDENTIALS_SECRET": secret,
        "SYNC_QUEUE_URL": queues["sync"],
        "DEAD_LETTER_QUEUE_URL": queues["dlq"],
        **settings,
    }.items():
        monkeypatch.setenv(key, value)
    module = load_handler("upload")
    module.environment.cache_clear()
    module.wired.cache_clear()
    return module


def checked_schema(state_table: str) -> None:
    """The state a passing `leadsync check` leaves: the lead schema fits the field map, so
    the functions do not describe the instance again within the hour."""
    from leadsync.adapters.schema_verdict import SchemaVerdicts
    from leadsync.mapping.fieldmap import default_field_map
    from leadsync.readiness.fields import fingerprint
    from leadsync.readiness.verdict import SchemaVerdict
    from leadsync.runtime.clock import utc_now

    verdict = SchemaVerdict(fingerprint=fingerprint(default_field_map()), checked_at=utc_now())
    SchemaVerdicts(state_table).put(verdict)
