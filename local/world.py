"""The local world: AWS on moto server, the LiveChat and Marketo simulators, the stack
deployed from template.yaml, and the functions driven the way AWS drives them."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

import boto3
import requests

from local.event_sources import DrainReport, ListeningSource, SqsPoller, scheduled_event
from local.function_clock import SITE, FunctionClock
from local.http_api import LocalHttpApi, http_routes
from local.lambda_runtime import FunctionPool, FunctionSpec, Invocation, materialize
from local.moto_server import SES_MESSAGES_PATH, SQS_TIME_PATH
from local.processes import ServerProcess
from local.stack import DeployedStack, deploy

ROOT = Path(__file__).resolve().parents[1]
REGION = "us-east-1"
ACCOUNT = "123456789012"


@dataclass
class WorldOptions:
    stack_name: str = "leadsync-local"
    state_dir: Path = ROOT / ".local"
    admin_email: str = "admin@example.com"
    sender_email: str = "leadsync@example.com"
    chats: int = 200
    seed: int = 7
    marketo_args: list[str] = field(default_factory=list)
    livechat_args: list[str] = field(default_factory=list)
    parameters: dict[str, str] = field(default_factory=dict)
    # the operator's edit of list_rules.toml (TOML text): the functions run with this file in
    # their layer, as after `sam build && sam deploy`; None keeps the shipped file
    list_rules: str | None = None
    # leave the servers running at the end, for the next `make demo KEEP=1` to use again
    keep: bool = False
    # a freshly provisioned Marketo (standard fields only, no lists) and no webhook registered
    # in LiveChat: what a user meets on the first day
    fresh: bool = False
    # AWS misbehaving for the functions: the fault proxy's configuration (local/aws_faults)
    # between them and moto; None: they reach moto directly
    aws_faults: dict[str, Any] | None = None
    # the functions' wall clock can be moved forward (days passing); see move_clocks_to
    movable_clock: bool = False


WORLD_FILE = "world.json"


def _get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as answer:  # noqa: S310 - loopback only
        return json.loads(answer.read())


def _post_json(url: str, payload: Any) -> Any:
    request = urllib.request.Request(  # noqa: S310 - loopback only
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 - loopback only
        return json.loads(answer.read())


def stop_kept_world(state_dir: Path) -> bool:
    """Stop the servers a `--keep` run left running; True if there were any."""
    path = state_dir / WORLD_FILE
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    pids = [int(pid) for pid in kept.get("pids", [])]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)  # waiting for processes to exit, bounded by the deadline
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    path.unlink(missing_ok=True)
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


class LocalWorld:
    def __init__(self, options: WorldOptions | None = None) -> None:
        self.options = options or WorldOptions()
        self._servers: list[ServerProcess] = []
        self._pools: dict[str, FunctionPool] = {}
        self.functions: dict[str, FunctionSpec] = {}
        self.stack: DeployedStack | None = None
        self.aws_url = self.marketo_url = self.livechat_url = ""
        # the time span the LiveChat simulator's chats were generated in
        self.chats_start = self.chats_end = datetime.now(UTC)
        self.reused = False
        self._listening: list[ListeningSource] = []
        self._http_api: LocalHttpApi | None = None
        self.webhook_secret = ""  # the secret_key LiveChat's webhooks must carry
        # where the functions reach AWS: moto, or the fault proxy in front of it
        self.functions_aws_url = ""
        self.clock: FunctionClock | None = None

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> LocalWorld:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        logs = self.options.state_dir / "logs"
        creds = {
            "livechat_account_id": f"local-{secrets.token_hex(4)}",
            "livechat_token": secrets.token_urlsafe(24),
            "marketo_client_id": secrets.token_hex(8),
            "marketo_client_secret": secrets.token_urlsafe(24),
            "livechat_webhook_secret": secrets.token_urlsafe(24),
            "livechat_client_id": secrets.token_hex(16),
        }
        self.webhook_secret = creds["livechat_webhook_secret"]
        self._start_servers(creds, logs)
        self.stack = deploy(self.options.stack_name, self._parameters(), self.session, self.aws_url)
        self._put_credentials(creds)
        ses = self.session.client("sesv2", endpoint_url=self.aws_url)
        # the sender and, as in SES's sandbox, the admin are verified identities
        for address in {self.options.sender_email, *self.options.admin_email.split(",")}:
            ses.create_email_identity(EmailIdentity=address.strip())
        if not self.options.fresh:
            self._register_webhook(creds)
        self._start_functions()

    def _register_webhook(self, creds: dict[str, str]) -> None:
        """LiveChat's `incoming_chat` webhook pointed at the stack, as `leadsync check --fix`
        registers it."""
        assert self.stack is not None
        url = f"{self.livechat_url}/v3.6/configuration/action/register_webhook"
        body = {
            "url": self.stack.outputs["WebhookUrl"],
            "action": "incoming_chat",
            "secret_key": creds["livechat_webhook_secret"],
            "owner_client_id": creds["livechat_client_id"],
            "type": "license",
            "description": f"leadsync {self.stack.name}",
        }
        auth = (creds["livechat_account_id"], creds["livechat_token"])
        requests.post(url, json=body, auth=auth, timeout=10).raise_for_status()

    def _start_functions(self) -> None:
        assert self.stack is not None
        state = self.options.state_dir
        logs = state / "logs"
        shutil.rmtree(state / "functions", ignore_errors=True)
        self.functions = materialize(self.stack, self.session, self.aws_url, state / "functions")
        if self.options.list_rules is not None:
            self._write_list_rules(self.options.list_rules)
        lam = self.session.client("lambda", endpoint_url=self.aws_url)
        for logical_id, spec in self.functions.items():
            concurrency = lam.get_function(FunctionName=spec.name).get("Concurrency", {})
            limit = int(concurrency.get("ReservedConcurrentExecutions", 10))
            self._pools[logical_id] = FunctionPool(
                spec, self.function_env, logs, limit, (SITE,) if self.clock else ()
            )
            self._quiet_emulated_event_sources(lam, spec.name)

    def _write_list_rules(self, text: str) -> None:
        """Put the operator's list_rules.toml in the layer every function runs from."""
        folders = {path for spec in self.functions.values() for path in spec.paths[1:]}
        written = 0
        for folder in folders:
            target = folder / "leadsync" / "lists" / "list_rules.toml"
            if target.exists():
                target.write_text(text, encoding="utf-8")
                written += 1
        if not written:
            raise LookupError("no layer of the stack holds leadsync/lists/list_rules.toml")

    @staticmethod
    def _quiet_emulated_event_sources(lam: Any, function_name: str) -> None:
        """moto delivers SQS messages to Lambda itself: on every SendMessage it receives one
        for the function, cannot run it (that needs Docker) and makes it visible again. Each
        such receive counts towards the redrive policy although no function saw the message,
        so a message sent before five others went to the dead-letter queue unprocessed. The
        local world is the event source mapping (`SqsPoller`, which reads the mapping's
        configuration), so moto's own delivery is switched off."""
        mappings = lam.list_event_source_mappings(FunctionName=function_name)
        for mapping in mappings["EventSourceMappings"]:
            if mapping.get("State") != "Disabled":
                lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)

    def _start_servers(self, creds: dict[str, str], logs: Path) -> None:
        now = datetime.now(UTC)
        self.chats_start = now - timedelta(minutes=55)
        self.chats_end = now - timedelta(minutes=1)
        keep = self.options.keep
        self._servers.append(
            ServerProcess(
                "moto", ["-m", "local.moto_server"], logs / "moto.log", ROOT, detached=keep
            )
        )
        self.aws_url = self.functions_aws_url = self._servers[-1].url
        if self.options.aws_faults is not None:
            self._start_fault_proxy(logs, detached=keep)
        if self.options.movable_clock:
            self.clock = FunctionClock(self.options.state_dir / "clock" / "offset")
        self._servers.append(
            ServerProcess(
                "marketo",
                [
                    "-m",
                    "local.simulators.marketo",
                    "--port",
                    "0",
                    # "--flag=value": a random secret may start with "-"
                    f"--client-id={creds['marketo_client_id']}",
                    f"--client-secret={creds['marketo_client_secret']}",
                    *(["--fresh"] if self.options.fresh else []),
                    *self.options.marketo_args,
                ],
                logs / "marketo.log",
                ROOT,
                detached=keep,
            )
        )
        self.marketo_url = self._servers[-1].url
        self._servers.append(
            ServerProcess(
                "livechat",
                [
                    "-m",
                    "local.simulators.livechat",
                    "--port",
                    "0",
                    f"--account-id={creds['livechat_account_id']}",
                    f"--token={creds['livechat_token']}",
                    "--full-scopes",
                    f"--client-id={creds['livechat_client_id']}",
                    "--seed",
                    str(self.options.seed),
                    "--chats",
                    str(self.options.chats),
                    "--start",
                    self.chats_start.isoformat(),
                    "--end",
                    self.chats_end.isoformat(),
                    *self.options.livechat_args,
                ],
                logs / "livechat.log",
                ROOT,
                detached=keep,
            )
        )
        self.livechat_url = self._servers[-1].url

    def _start_fault_proxy(self, logs: Path, *, detached: bool) -> None:
        config = self.options.state_dir / "aws-faults.json"
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(json.dumps(self.options.aws_faults), encoding="utf-8")
        args = ["--target", self.aws_url, "--port", "0", "--config", str(config)]
        self._servers.append(
            ServerProcess(
                "aws-faults",
                ["-m", "local.aws_faults", *args, "--seed", str(self.options.seed)],
                logs / "aws-faults.log",
                ROOT,
                detached=detached,
            )
        )
        self.functions_aws_url = self._servers[-1].url

    def aws_faults(self) -> dict[str, Any]:
        """What the fault proxy did to the functions' AWS calls (GET /_faults)."""
        if self.functions_aws_url == self.aws_url:
            return {"injected_total": 0, "injected": []}
        answer: dict[str, Any] = _get_json(f"{self.functions_aws_url}/_faults")
        return answer

    def set_aws_faults(self, enabled: bool) -> None:
        if self.functions_aws_url != self.aws_url:
            _post_json(f"{self.functions_aws_url}/_faults", {"enabled": enabled})

    def move_clocks_to(self, moment: datetime) -> None:
        """Let time pass: the functions' wall clock and the Marketo simulator's both read
        `moment` from now on (the simulator's only moves forward: an import it was hurried
        through may have taken it further)."""
        if self.clock is None:
            raise RuntimeError("the world was started without a movable clock")
        passed = (moment - self.clock.now()).total_seconds()
        self.clock.move_to(moment)
        # SQS's timers run on the same time: a message delayed until Marketo's day resets
        _post_json(f"{self.aws_url}{SQS_TIME_PATH}", {"seconds": passed})
        marketo = _get_json(f"{self.marketo_url}/_sim/clock")
        if float(marketo["epoch"]) < moment.timestamp():
            _post_json(f"{self.marketo_url}/_sim/clock", {"advance_to": moment.timestamp()})

    def _parameters(self) -> dict[str, str]:
        return {
            "AdminEmail": self.options.admin_email,
            "SenderEmail": self.options.sender_email,
            **self.options.parameters,
        }

    def _put_credentials(self, creds: dict[str, str]) -> None:
        """Fill the stack's secret as an operator does after the first deploy."""
        assert self.stack is not None
        name = f"{self.stack.name}/credentials"
        secret = {
            **creds,
            "livechat_api_url": self.livechat_url,
            "marketo_rest_url": self.marketo_url,
            "marketo_identity_url": f"{self.marketo_url}/identity",
        }
        sm = self.session.client("secretsmanager", endpoint_url=self.aws_url)
        sm.put_secret_value(SecretId=name, SecretString=json.dumps(secret))

    def stop(self) -> None:
        for source in self._listening:
            source.stop()
        self._listening.clear()
        if self._http_api is not None:
            self._http_api.stop()
            self._http_api = None
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()
        if self.options.keep and self.stack is not None and self._servers:
            self._write_world_file([server.detach() for server in self._servers])
        else:
            for server in reversed(self._servers):
                server.stop()
        self._servers.clear()

    # -- a kept world ----------------------------------------------------------------------
    def _write_world_file(self, pids: list[int]) -> None:
        assert self.stack is not None
        kept = {
            "pids": pids,
            "aws_url": self.aws_url,
            "marketo_url": self.marketo_url,
            "livechat_url": self.livechat_url,
            "chats_start": self.chats_start.isoformat(),
            "chats_end": self.chats_end.isoformat(),
            "stack": {
                "name": self.stack.name,
                "outputs": self.stack.outputs,
                "resources": self.stack.resources,
                "template": self.stack.template,
            },
        }
        path = self.options.state_dir / WORLD_FILE
        path.write_text(json.dumps(kept), encoding="utf-8")

    @classmethod
    def attach(cls, options: WorldOptions) -> LocalWorld | None:
        """The world a previous `--keep` run left running, or None when there is none."""
        path = options.state_dir / WORLD_FILE
        try:
            kept = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        world = cls(options)
        world.aws_url, world.marketo_url = kept["aws_url"], kept["marketo_url"]
        world.livechat_url = kept["livechat_url"]
        try:
            _get_json(f"{world.marketo_url}/_sim/health")
            _get_json(f"{world.livechat_url}/_sim/health")
            _get_json(f"{world.aws_url}{SES_MESSAGES_PATH}")
        except OSError:
            stop_kept_world(options.state_dir)
            return None
        world.chats_start = datetime.fromisoformat(kept["chats_start"])
        world.chats_end = datetime.fromisoformat(kept["chats_end"])
        world.stack = DeployedStack(**kept["stack"])
        world.reused = True
        world._start_functions()
        return world

    # -- the simulators' side --------------------------------------------------------------
    def livechat_visitors(self) -> list[dict[str, Any]]:
        """The distinct visitors the generated chats hold, as the simulator computes them."""
        found: list[dict[str, Any]] = _get_json(f"{self.livechat_url}/_sim/visitors")["visitors"]
        return found

    def livechat_fault_counts(self) -> dict[str, int]:
        """The faults the LiveChat simulator dealt, by kind."""
        answer = _get_json(f"{self.livechat_url}/_sim/faults")
        counts = answer.get("counts", {}) if isinstance(answer, dict) else {}
        return {str(kind): int(n) for kind, n in counts.items()}

    def livechat_chat_count(self) -> int:
        """How many chats the LiveChat simulator holds."""
        return int(_get_json(f"{self.livechat_url}/_sim/health")["chats"])

    def marketo_leads(self) -> list[dict[str, Any]]:
        leads: list[dict[str, Any]] = _get_json(f"{self.marketo_url}/_sim/leads")["leads"]
        return leads

    def marketo_leads_of(self, *emails: str) -> list[dict[str, Any]]:
        """The simulator's leads with these e-mails (any case)."""
        query = urllib.parse.urlencode([("email", email) for email in emails])
        leads: list[dict[str, Any]] = _get_json(f"{self.marketo_url}/_sim/leads?{query}")["leads"]
        return leads

    def marketo_lists(self) -> dict[int, set[int]]:
        """Every static list of the Marketo simulator: list id → the ids of its members."""
        found = _get_json(f"{self.marketo_url}/_sim/lists")["lists"]
        return {int(static["id"]): {int(m) for m in static["members"]} for static in found}

    def add_marketo_list(self, list_id: int, name: str) -> int:
        """Create a static list in the Marketo simulator, as a marketer would."""
        created = _post_json(f"{self.marketo_url}/_sim/lists", {"id": list_id, "name": name})
        return int(created["id"])

    def add_livechat_chats(self, chats: list[dict[str, Any]]) -> int:
        """Add (or replace, by chat id) chats in the LiveChat simulator; how many were new."""
        answer = _post_json(f"{self.livechat_url}/_sim/chats", {"chats": chats})
        return int(answer["added"])

    def request_erasures(self, emails: list[str]) -> None:
        """Send erasure requests (one e-mail a message) to the stack's erasure queue."""
        assert self.stack is not None
        sqs = self.client("sqs")
        url = self.stack.outputs["ErasureQueueUrl"]
        for start in range(0, len(emails), 10):
            chunk = emails[start : start + 10]
            entries = [{"Id": str(n), "MessageBody": email} for n, email in enumerate(chunk)]
            answer = sqs.send_message_batch(QueueUrl=url, Entries=entries)
            if answer.get("Failed"):
                raise RuntimeError(f"erasure queue refused {answer['Failed']}")

    def seed_marketo(self, leads: list[dict[str, Any]]) -> list[int]:
        ids: list[int] = _post_json(f"{self.marketo_url}/_sim/leads", {"leads": leads})["ids"]
        return ids

    def advance_marketo_clock(self, seconds: float) -> dict[str, Any]:
        """Move the Marketo simulator's clock forward (imports progress in its time)."""
        moved: dict[str, Any] = _post_json(
            f"{self.marketo_url}/_sim/clock", {"advance_seconds": seconds}
        )
        return moved

    def rewind_fetch_mark(self, to: datetime) -> None:
        """Set the high-water mark, as an operator replaying a time span would."""
        assert self.stack is not None
        self.client("dynamodb").put_item(
            TableName=self.stack.outputs["StateTableName"],
            Item={
                "pk": {"S": "source#livechat"},
                "sk": {"S": "hwm"},
                "mark": {"S": to.astimezone(UTC).isoformat().replace("+00:00", "Z")},
                "updated_at": {"S": datetime.now(UTC).isoformat().replace("+00:00", "Z")},
            },
        )

    # -- AWS as the functions see it -------------------------------------------------------
    @property
    def aws_env(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.aws_url,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
        }

    @property
    def session(self) -> boto3.session.Session:
        return boto3.session.Session(
            aws_access_key_id="local",
            aws_secret_access_key="local",  # noqa: S106 - moto accepts any credentials
            region_name=REGION,
        )

    @property
    def function_env(self) -> dict[str, str]:
        """AWS as the functions see it: through the fault proxy when there is one, and
        their movable clock."""
        env = {**self.aws_env, "AWS_ENDPOINT_URL": self.functions_aws_url or self.aws_url}
        return {**env, **(self.clock.env() if self.clock else {})}

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.aws_url)  # type: ignore[call-overload]

    # -- driving the functions -------------------------------------------------------------
    def fire_schedule(self, function_logical_id: str, when: datetime | None = None) -> Invocation:
        """Fire the EventBridge rule whose target is the function, as the schedule would."""
        spec = self.functions[function_logical_id]
        events = self.client("events")
        for rule in events.list_rules()["Rules"]:
            targets = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
            if any(t["Arn"].endswith(f":function:{spec.name}") for t in targets):
                event = scheduled_event(rule["Arn"], REGION, ACCOUNT, when or datetime.now(UTC))
                return self._pools[function_logical_id].invoke(event)
        raise LookupError(f"no schedule targets {function_logical_id}")

    def invoke(self, function_logical_id: str, event: Any) -> Invocation:
        return self._pools[function_logical_id].invoke(event)

    def drain_queue(
        self,
        function_logical_id: str = "UploadFunction",
        *,
        wait_in_flight: bool = False,
        deadline_s: float = 960.0,
    ) -> DrainReport:
        """Run the function's SQS event source mapping until its queue shows no message;
        with `wait_in_flight`, also until the messages failed or killed invocations left
        invisible have come round again (each bounded by `deadline_s`)."""
        spec = self.functions[function_logical_id]
        lam = self.client("lambda")
        mappings = lam.list_event_source_mappings(FunctionName=spec.name)["EventSourceMappings"]
        sqs = self.client("sqs")
        report = DrainReport()
        for mapping in mappings:
            poller = SqsPoller(sqs, mapping, self._pools[function_logical_id], REGION)
            report.add(poller.drain(delayed_deadline_s=deadline_s, wait_in_flight=wait_in_flight))
        return report

    def listen(self, function_logical_id: str) -> list[ListeningSource]:
        """Leave the function's SQS event source mappings running (as Lambda does) until
        each returned source is stopped (`stop()` gives what it delivered)."""
        spec = self.functions[function_logical_id]
        lam = self.client("lambda")
        mappings = lam.list_event_source_mappings(FunctionName=spec.name)["EventSourceMappings"]
        sqs = self.client("sqs")
        sources = [
            ListeningSource(SqsPoller(sqs, m, self._pools[function_logical_id], REGION)).start()
            for m in mappings
        ]
        self._listening.extend(sources)
        return sources

    def http_api(self) -> LocalHttpApi:
        """The stack's HTTP API routes on loopback (started on first use)."""
        if self._http_api is None:
            self._http_api = LocalHttpApi(self.invoke, http_routes()).start()
        return self._http_api

    def pool(self, function_logical_id: str) -> FunctionPool:
        """The execution environments of one function (to watch them, or kill one)."""
        return self._pools[function_logical_id]

    # -- what exists -----------------------------------------------------------------------
    def queue_depth(self, output_key: str) -> int:
        assert self.stack is not None
        attrs = self.client("sqs").get_queue_attributes(
            QueueUrl=self.stack.outputs[output_key],
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]) + int(
            attrs["ApproximateNumberOfMessagesNotVisible"]
        )

    def waiting(self, output_key: str) -> int:
        """Every message the queue holds: visible, in flight or delayed."""
        assert self.stack is not None
        names = [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ]
        attrs = self.client("sqs").get_queue_attributes(
            QueueUrl=self.stack.outputs[output_key], AttributeNames=names
        )["Attributes"]
        return sum(int(attrs[name]) for name in names)

    def sent_emails(self) -> list[dict[str, Any]]:
        """Every e-mail the emulated SES accepted."""
        messages: list[dict[str, Any]] = _get_json(f"{self.aws_url}{SES_MESSAGES_PATH}")
        return messages

    def marketo_audit(self, since: int = 0, limit: int | None = None) -> dict[str, Any]:
        query = f"?since={since}" + (f"&limit={limit}" if limit is not None else "")
        audit: dict[str, Any] = _get_json(f"{self.marketo_url}/_sim/audit{query}")
        return audit

    def describe(self) -> dict[str, Any]:
        assert self.stack is not None
        cfn = self.client("cloudformation")
        resources = cfn.list_stack_resources(StackName=self.stack.name)["StackResourceSummaries"]
        table = self.stack.outputs["StateTableName"]
        items = self.client("dynamodb").scan(TableName=table, Select="COUNT")["Count"]
        return {
            "stack": self.stack.name,
            "resources": sorted(
                (r["LogicalResourceId"], r["ResourceType"], r["ResourceStatus"])
                for r in resources
                if r["LogicalResourceId"]
            ),
            "sync_queue_messages": self.queue_depth("SyncQueueUrl"),
            "dead_letter_messages": self.queue_depth("DeadLetterQueueUrl"),
            "state_table_items": items,
            "emails_sent": len(self.sent_emails()),
            "endpoints": {
                "aws": self.aws_url,
                "marketo": self.marketo_url,
                "livechat": self.livechat_url,
            },
        }
