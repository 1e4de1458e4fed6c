"""No secret and no personal data in clear in any log line any function wrote.

The local world runs the job with failures on purpose (hostile chats that are rejected,
records Marketo refuses, failed calls, an erasure, a message that is not a batch) and then
the digest; every line of every function's log is read back. Masked forms (`j***@e***.com`,
`203.0.113.0/24`) are what the logs may hold.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from local.simulators.livechat.webhooks import WebhookSender, incoming_chat, with_secret
from local.sync_run import CycleReport, run_cycle, seed_known_visitors
from local.world import LocalWorld, WorldOptions
from tests.support.local_world import stored_errors

pytestmark = pytest.mark.e2e

CHATS = 160
EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+")
# an IPv4 address, unless it is a masked network ("203.0.113.0/24")
IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.]|/\d)")
LOOPBACK = re.compile(r"127(?:\.\d{1,3}){3}")
MARKETO_FAULTS = [
    "--record-reject-probability=0.2",
    "--http-5xx-probability=0.05",
    "--seed=5",
]


@dataclass
class Run:
    lines: list[tuple[str, str]] = field(default_factory=list)  # (log file, line)
    secrets: dict[str, str] = field(default_factory=dict)  # what → value
    emails: set[str] = field(default_factory=set)  # every address the chats hold
    ips: set[str] = field(default_factory=set)  # every IPv4 address the chats hold
    allowed_emails: set[str] = field(default_factory=set)  # the stack's own configuration
    report: CycleReport = field(default_factory=CycleReport)
    error_reasons: set[str] = field(default_factory=set)
    digest: dict[str, Any] = field(default_factory=dict)


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 - loopback only
        return json.loads(answer.read())


def _secrets(world: LocalWorld) -> dict[str, str]:
    """The secret the world put, the LiveChat Basic credential, and Marketo's live token."""
    assert world.stack is not None
    secret = world.client("secretsmanager").get_secret_value(
        SecretId=f"{world.stack.name}/credentials"
    )
    stored = json.loads(secret["SecretString"])
    basic = f"{stored['livechat_account_id']}:{stored['livechat_token']}"
    query = urllib.parse.urlencode(
        {
            "grant_type": "client_credentials",
            "client_id": stored["marketo_client_id"],
            "client_secret": stored["marketo_client_secret"],
        }
    )
    # one live token per client, handed to every caller until it expires
    token = _get(f"{stored['marketo_identity_url']}/oauth/token?{query}")["access_token"]
    return {
        "marketo_client_id": stored["marketo_client_id"],
        "marketo_client_secret": stored["marketo_client_secret"],
        "livechat_token": stored["livechat_token"],
        "livechat_basic_credential": base64.b64encode(basic.encode()).decode(),
        "marketo_access_token": token,
        "livechat_webhook_secret": stored["livechat_webhook_secret"],
    }


def _function_logs(world: LocalWorld) -> list[tuple[str, str]]:
    folder = world.options.state_dir / "logs"
    lines: list[tuple[str, str]] = []
    for path in sorted(folder.glob("*.log")):
        if path.name.split("-")[0] in world.functions:
            text = path.read_text(encoding="utf-8", errors="replace")
            lines.extend((path.name, line) for line in text.splitlines())
    return lines


def _error_reasons(world: LocalWorld) -> set[str]:
    return {f"{item['kind']['S']}/{item['reason']['S']}" for item in stored_errors(world)}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    state: Path = tmp_path_factory.mktemp("hygiene-world")
    options = WorldOptions(
        chats=CHATS,
        seed=17,
        state_dir=state,
        marketo_args=MARKETO_FAULTS,
        # the most the functions ever log: an operator may switch it on in production
        parameters={"LogLevel": "DEBUG"},
    )
    with LocalWorld(options) as world:
        assert world.stack is not None
        found = Run(allowed_emails={options.admin_email, options.sender_email})
        chats = json.dumps(_get(f"{world.livechat_url}/_sim/chats?limit=100000"))
        found.emails = {e.lower() for e in EMAIL.findall(chats)}
        found.ips = {ip for ip in IPV4.findall(chats) if not LOOPBACK.fullmatch(ip)}
        visitors = sorted(v["email"] for v in world.livechat_visitors())
        found.emails.update(email.lower() for email in visitors)

        seed_known_visitors(world)
        world.request_erasures([visitors[0]])
        found.report = run_cycle(world)
        world.client("sqs").send_message(
            QueueUrl=world.stack.outputs["SyncQueueUrl"],
            MessageBody=f"not a batch, from {visitors[1]} at 203.0.113.77",
        )
        world.drain_queue("UploadFunction")
        # webhooks: one with a wrong secret, then a whole chat from the dataset (IPs and all),
        # then the health route
        api = world.http_api()
        sender = WebhookSender(f"{api.url}/webhooks/livechat", retries=0)
        chat = next(
            c
            for c in _get(f"{world.livechat_url}/_sim/chats?limit=100000")["chats"]
            if any(u.get("email") == visitors[-1] for u in c.get("users", []))
        )
        delivery = incoming_chat(chat, secret_key=world.webhook_secret)
        assert sender.post(with_secret(delivery, "wrong-" + world.webhook_secret)) == 401
        assert sender.post(delivery) == 202
        world.drain_queue("PriorityUploadFunction")
        # 503: this run leaves dead letters on purpose
        with pytest.raises(urllib.error.HTTPError, match="503"):
            urllib.request.urlopen(f"{api.url}/health", timeout=30)  # noqa: S310
        found.digest = world.fire_schedule("DigestFunction").result
        found.error_reasons = _error_reasons(world)
        found.secrets = _secrets(world)
        found.lines = _function_logs(world)
        yield found


def test_the_run_went_through_its_failures(run: Run) -> None:
    assert run.report.rejected > 0
    assert run.report.created > 0
    assert any(reason.startswith("rejected/") for reason in run.error_reasons)
    assert "undeliverable/marketo_1003" in run.error_reasons
    assert "undeliverable/invalid_message" in run.error_reasons
    assert run.digest["sent"] is True
    assert run.emails
    assert run.ips
    files = {name.split("-")[0] for name, _ in run.lines}
    assert {
        "FetchFunction",
        "UploadFunction",
        "DigestFunction",
        "WebhookFunction",
        "PriorityUploadFunction",
        "HealthFunction",
    } <= files


def test_no_secret_appears_in_any_log_line(run: Run) -> None:
    assert all(len(value) >= 8 for value in run.secrets.values())
    leaks = [
        f"{name}: {what} in {line[:160]!r}"
        for name, line in run.lines
        for what, value in run.secrets.items()
        if value in line
    ]
    assert leaks == []


def test_no_email_address_appears_unmasked(run: Run) -> None:
    leaks = [
        f"{name}: {line[:200]!r}"
        for name, line in run.lines
        if any(e.lower() not in run.allowed_emails for e in EMAIL.findall(line))
        or any(email in line.lower() for email in run.emails)
    ]
    assert leaks == []


def test_no_ip_address_appears_unmasked(run: Run) -> None:
    leaks = [
        f"{name}: {line[:200]!r}"
        for name, line in run.lines
        if any(not LOOPBACK.fullmatch(ip) for ip in IPV4.findall(line))
        or any(re.search(rf"(?<![\d.]){re.escape(ip)}(?![\d]|/\d)", line) for ip in run.ips)
    ]
    assert leaks == []


def test_the_functions_log_their_metrics_as_emf(run: Run) -> None:
    emitted: dict[str, dict[str, Any]] = {}
    for _, line in run.lines:
        if line.startswith("{") and '"_aws"' in line:
            blob = json.loads(line)
            for directive in blob["_aws"]["CloudWatchMetrics"]:
                for metric in directive["Metrics"]:
                    emitted[metric["Name"]] = blob
    assert {"FetchRunsSucceeded", "MarketoCalls", "RecordsSynced", "Errors"} <= set(emitted)
    fetched = emitted["FetchRunsSucceeded"]
    assert fetched["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "leadsync"
    assert fetched["stack"] == "leadsync-local"
    assert fetched["service"] == "leadsync"
