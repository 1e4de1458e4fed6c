"""The local world: AWS on moto server, the LiveChat and Marketo simulators, the stack
deployed from template.yaml, and the functions driven the way AWS drives them."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from local import operator_setup, world_servers
from local.event_sources import (
    DrainReport,
    ListeningSource,
    SqsPoller,
    quiet_emulated_event_sources,
    scheduled_event,
)
from local.function_clock import SITE, FunctionClock
from local.http_api import LocalHttpApi, http_routes
from local.kept_world import KeptWorld
from local.lambda_runtime import FunctionPool, FunctionSpec, Invocation, materialize
from local.moto_server import SQS_TIME_PATH
from local.ports import get_json, post_json
from local.processes import ServerProcess
from local.stack import ROOT, DeployedStack, deploy
from local.world_aws import ACCOUNT, REGION, AwsSide
from local.world_simulators import SimulatorsSide


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


class LocalWorld(AwsSide, SimulatorsSide):
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
        creds = world_servers.new_credentials()
        self.webhook_secret = creds["livechat_webhook_secret"]
        self._start_servers(creds, self.options.state_dir / "logs")
        self.stack = deploy(self.options.stack_name, self._parameters(), self.session, self.aws_url)
        operator_setup.put_credentials(
            self.client("secretsmanager"),
            self.stack,
            creds,
            livechat_url=self.livechat_url,
            marketo_url=self.marketo_url,
        )
        operator_setup.verify_identities(
            self.client("sesv2"),
            self.options.sender_email,
            self.options.admin_email,
        )
        if not self.options.fresh:
            operator_setup.register_webhook(self.livechat_url, self.stack, creds)
        self._start_functions()

    def _start_servers(self, creds: dict[str, str], logs: Path) -> None:
        now = datetime.now(UTC)
        self.chats_start = now - timedelta(minutes=55)
        self.chats_end = now - timedelta(minutes=1)
        self.aws_url = self.functions_aws_url = self._own(world_servers.moto(self.options, logs))
        if self.options.aws_faults is not None:
            proxy = world_servers.fault_proxy(self.options, self.aws_url, logs)
            self.functions_aws_url = self._own(proxy)
        if self.options.movable_clock:
            self.clock = FunctionClock(self.options.state_dir / "clock" / "offset")
        self.marketo_url = self._own(world_servers.marketo(self.options, creds, logs))
        chats = (self.chats_start, self.chats_end)
        self.livechat_url = self._own(world_servers.livechat(self.options, creds, chats, logs))

    def _own(self, server: ServerProcess) -> str:
        """A started server the world stops with itself (or leaves running, kept); its URL."""
        self._servers.append(server)
        return server.url

    def _start_functions(self) -> None:
        assert self.stack is not None
        state = self.options.state_dir
        logs = state / "logs"
        shutil.rmtree(state / "functions", ignore_errors=True)
        self.functions = materialize(self.stack, self.session, self.aws_url, state / "functions")
        if self.options.list_rules is not None:
            operator_setup.write_list_rules(self.functions, self.options.list_rules)
        lam = self.client("lambda")
        for logical_id, spec in self.functions.items():
            concurrency = lam.get_function(FunctionName=spec.name).get("Concurrency", {})
            limit = int(concurrency.get("ReservedConcurrentExecutions", 10))
            self._pools[logical_id] = FunctionPool(
                spec, self.function_env, logs, limit, (SITE,) if self.clock else ()
            )
            quiet_emulated_event_sources(lam, spec.name)

    def _parameters(self) -> dict[str, str]:
        return {
            "AdminEmail": self.options.admin_email,
            "SenderEmail": self.options.sender_email,
            **self.options.parameters,
        }

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
            pids = [server.detach() for server in self._servers]
            kept = KeptWorld(
                pids,
                self.aws_url,
                self.marketo_url,
                self.livechat_url,
                self.chats_start,
                self.chats_end,
                self.stack,
            )
            kept.save(self.options.state_dir)
        else:
            for server in reversed(self._servers):
                server.stop()
        self._servers.clear()

    @classmethod
    def attach(cls, options: WorldOptions) -> LocalWorld | None:
        """The world a previous `--keep` run left running, or None when there is none."""
        kept = KeptWorld.load(options.state_dir)
        if kept is None:
            return None
        world = cls(options)
        world.aws_url, world.marketo_url = kept.aws_url, kept.marketo_url
        world.livechat_url = kept.livechat_url
        world.chats_start, world.chats_end = kept.chats_start, kept.chats_end
        world.stack = kept.stack
        world.reused = True
        world._start_functions()
        return world

    # -- time ------------------------------------------------------------------------------
    def move_clocks_to(self, moment: datetime) -> None:
        """Let time pass: the functions' wall clock and the Marketo simulator's both read
        `moment` from now on (the simulator's only moves forward: an import it was hurried
        through may have taken it further)."""
        if self.clock is None:
            raise RuntimeError("the world was started without a movable clock")
        passed = (moment - self.clock.now()).total_seconds()
        self.clock.move_to(moment)
        # SQS's timers run on the same time: a message delayed until Marketo's day resets
        post_json(f"{self.aws_url}{SQS_TIME_PATH}", {"seconds": passed})
        marketo = get_json(f"{self.marketo_url}/_sim/clock")
        if float(marketo["epoch"]) < moment.timestamp():
            post_json(f"{self.marketo_url}/_sim/clock", {"advance_to": moment.timestamp()})

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
        report = DrainReport()
        for poller in self._pollers(function_logical_id):
            report.add(poller.drain(delayed_deadline_s=deadline_s, wait_in_flight=wait_in_flight))
        return report

    def listen(self, function_logical_id: str) -> list[ListeningSource]:
        """Leave the function's SQS event source mappings running (as Lambda does) until
        each returned source is stopped (`stop()` gives what it delivered)."""
        sources = [ListeningSource(poller).start() for poller in self._pollers(function_logical_id)]
        self._listening.extend(sources)
        return sources

    def _pollers(self, function_logical_id: str) -> Iterator[SqsPoller]:
        """A poller for each SQS event source mapping of the function, made as it is needed."""
        spec = self.functions[function_logical_id]
        lam = self.client("lambda")
        mappings = lam.list_event_source_mappings(FunctionName=spec.name)["EventSourceMappings"]
        sqs = self.client("sqs")
        for mapping in mappings:
            yield SqsPoller(sqs, mapping, self._pools[function_logical_id], REGION)

    def http_api(self) -> LocalHttpApi:
        """The stack's HTTP API routes on loopback (started on first use)."""
        if self._http_api is None:
            self._http_api = LocalHttpApi(self.invoke, http_routes()).start()
        return self._http_api

    def pool(self, function_logical_id: str) -> FunctionPool:
        """The execution environments of one function (to watch them, or kill one)."""
        return self._pools[function_logical_id]

    # -- what exists -----------------------------------------------------------------------
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
