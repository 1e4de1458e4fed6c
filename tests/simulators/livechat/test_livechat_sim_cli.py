"""`python -m local.simulators.livechat`: a real process announcing its port."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from local.simulators.livechat import DEFAULT_ARCHIVE_RETENTION_MONTHS, DEFAULT_CLIENT_ID
from local.simulators.livechat.__main__ import simulator_from_args


def _run(args: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "local.simulators.livechat", *args],
        cwd=Path(__file__).resolve().parents[3],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_cli_starts_on_a_free_port_with_the_given_settings(tmp_path: Path) -> None:
    config = tmp_path / "sim.json"
    config.write_text(
        json.dumps(
            {
                "token": "from-config",
                "generation": {"seed": 3, "chats": 50, "start": "2026-05-01T00:00:00Z"},
                "faults": {"rate_limit_next": 1},
            }
        )
    )
    process = _run(
        [
            "--port",
            "0",
            "--account-id",
            "acc-1",
            "--chats",
            "7",
            "--end",
            "2026-05-02T00:00:00Z",
            "--config",
            str(config),
        ]
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        prefix = "livechat-simulator listening on http://127.0.0.1:"
        assert line.startswith(prefix), line
        base = line.removeprefix("livechat-simulator listening on ")
        health = requests.get(f"{base}/_sim/health", timeout=5).json()
        assert health["chats"] == 7
        assert health["params"]["seed"] == 3
        assert health["params"]["start"].startswith("2026-05-01")
        url = f"{base}/v3.6/agent/action/list_archives"
        first = requests.post(url, json={}, auth=("acc-1", "from-config"), timeout=5)
        assert first.status_code == 429
        second = requests.post(url, json={}, auth=("acc-1", "from-config"), timeout=5)
        assert second.status_code == 200
        assert second.json()["found_chats"] >= 7
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_cli_configures_client_ids_scopes_and_retention() -> None:
    process = _run(
        [
            "--port",
            "0",
            "--chats",
            "2",
            "--full-scopes",
            "--client-id",
            "app-one",
            "--client-id",
            "app-two",
            "--archive-retention-months",
            "-1",
            "--license-webhooks-disabled",
        ]
    )
    try:
        assert process.stdout is not None
        base = process.stdout.readline().strip().removeprefix("livechat-simulator listening on ")
        url = f"{base}/v3.6/configuration/action"
        auth = ("leadsync-sim-account", "leadsync-sim-token")
        state = requests.post(
            f"{url}/get_license_webhooks_state",
            json={"owner_client_id": "app-two"},
            auth=auth,
            timeout=5,
        )
        assert state.json() == {"license_webhooks_enabled": False}
        limits = requests.post(
            f"{url}/list_license_properties", json={"namespace": "limits"}, auth=auth, timeout=5
        ).json()["limits"]
        assert limits["archives_retention.base"] == -1
        shown = requests.get(f"{base}/_sim/webhooks", timeout=5).json()
        assert shown["client_ids"] == ["app-one", "app-two"]
        archives = requests.post(
            f"{base}/v3.6/agent/action/list_archives", json={}, auth=auth, timeout=5
        )
        assert archives.status_code == 200
    finally:
        process.terminate()
        process.communicate(timeout=10)


def test_cli_defaults_keep_the_read_only_token() -> None:
    sim = simulator_from_args(["--chats", "1"])
    assert sim.scopes == frozenset({"chats--all:ro"})
    assert sim.client_ids == (DEFAULT_CLIENT_ID,)
    assert sim.archive_retention_months == DEFAULT_ARCHIVE_RETENTION_MONTHS == 24
    scoped = simulator_from_args(["--chats", "1", "--scope", "webhooks.state:ro"])
    assert scoped.scopes == frozenset({"webhooks.state:ro"})


def test_cli_flags_set_every_fault_over_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "sim.json"
    config.write_text(json.dumps({"faults": {"internal_probability": 0.5, "rate_limit_next": 2}}))
    sim = simulator_from_args(
        [
            "--config",
            str(config),
            "--seed",
            "3",
            "--fault-seed",
            "99",
            "--rate-limit-probability",
            "0.1",
            "--internal-probability",
            "0.2",
            "--bad-gateway-probability",
            "0.3",
            "--slow-probability",
            "0.4",
            "--slow-min-seconds",
            "0.5",
            "--slow-max-seconds",
            "2",
            "--timeout-probability",
            "0.05",
            "--timeout-hold-seconds",
            "30",
            "--page-expire-probability",
            "0.01",
            "--include-configuration-api",
        ]
    )
    faults = sim.faults.config.to_dict()
    assert sim.params.seed == 3  # --seed stays the data's seed
    assert faults == {
        **faults,
        "seed": 99,
        "rate_limit_next": 2,
        "rate_limit_probability": 0.1,
        "internal_probability": 0.2,
        "bad_gateway_probability": 0.3,
        "slow_probability": 0.4,
        "slow_min_seconds": 0.5,
        "slow_max_seconds": 2.0,
        "timeout_probability": 0.05,
        "timeout_hold_seconds": 30.0,
        "page_expire_probability": 0.01,
        "include_configuration_api": True,
    }
    plain = simulator_from_args(["--chats", "1"]).faults.config
    assert not plain.include_configuration_api
    assert plain.rate_limit_probability == 0


def test_cli_refuses_a_bad_fault_setting() -> None:
    with pytest.raises(SystemExit, match="rate_limit_probability"):
        simulator_from_args(["--chats", "1", "--rate-limit-probability", "2"])
