"""Driving the stack through the days of a chaos run, as AWS would: the schedule fires the
fetch, the event source mappings feed the upload, the priority upload and the bulk
function, LiveChat's webhooks reach the webhook route, the daily schedule fires the digest;
environments are killed mid-invocation, and between runs time passes for everyone."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from leadsync.limiter.config import LimiterConfig, Reserve, limiter_name, split
from leadsync.limiter.readout import LimiterReadout
from local.bulk_run import drain_bulk
from local.chaos.background import Killer, Progress
from local.chaos.observe import DigestView, read_digest
from local.chaos.report import ChaosReport
from local.chaos.settings import ChaosSettings
from local.event_sources import ListeningSource
from local.lambda_runtime import InvocationError
from local.simulators.livechat.authored import authored_chat
from local.simulators.livechat.webhooks import WebhookSender, incoming_chat
from local.world import LocalWorld

Say = Callable[[str], None]
# how long a drain waits for messages sent back with a short delay before time moves on
SHORT_WAIT_S = 20.0


class Driver:
    def __init__(
        self, world: LocalWorld, settings: ChaosSettings, report: ChaosReport, say: Say
    ) -> None:
        assert world.stack is not None
        assert world.clock is not None
        self.world, self.settings, self.report, self.say = world, settings, report, say
        self._table = world.stack.outputs["StateTableName"]
        self._listening: list[ListeningSource] = []
        self._kills_left = settings.kills if settings.kills is not None else 6
        self.last_fetch_empty = False
        # the harness reads the stack's state as an operator would, through moto itself
        self._dynamodb = world.client("dynamodb")

    # -- time ------------------------------------------------------------------------------
    def at(self, moment: datetime) -> None:
        assert self.world.clock is not None
        if moment > self.world.clock.now():
            self.world.move_clocks_to(moment)

    def now(self) -> datetime:
        assert self.world.clock is not None
        return self.world.clock.now()

    # -- the hourly run --------------------------------------------------------------------
    def fetch(self) -> None:
        """Fire the schedule until a fetch ends (each failed one is read again by the next,
        five minutes later)."""
        for attempt in range(1, self.settings.fetch_runs + 1):
            self.report.fetch_runs += 1
            try:
                result: dict[str, Any] = self.world.fire_schedule(
                    "FetchFunction", when=self.now()
                ).result
            except InvocationError as exc:
                self.report.fetch_failures.append(str(exc)[:300])
                self.say(f"the fetch failed (attempt {attempt}): {str(exc)[:160]}")
                self.at(self.now() + timedelta(minutes=5))
                continue
            self.report.fetched = True
            self.last_fetch_empty = not result.get("chats")
            bulk = int(result.get("bulk_records", 0))
            self.report.bulk += bulk
            self.report.rest += int(result.get("records", 0))
            self.say(
                f"fetch at {self._local()}: chats={result['chats']} "
                f"visitors={result['visitors']} path={result.get('path')} "
                f"({result.get('path_reason')}) "
                f"rest records={result.get('records')} bulk records={bulk} "
                f"messages={result['messages']}"
            )
            return
        self.say("no fetch of this run ended; the next run reads the same chats again")

    def webhooks(self, count: int) -> None:
        """New visitors chat now: LiveChat keeps their chats (the hourly run reads them too)
        and sends each `incoming_chat` webhook to the stack."""
        if not self._listening:
            self._listening = self.world.listen("PriorityUploadFunction")
        now = self.now()
        chats = [
            authored_chat(
                f"CHAOSWH{n:04d}",
                email=f"webhook.{n}@chaos.example.com",
                at=now - timedelta(minutes=2),
                customer_id=f"chaos-webhook-{n}",
                country="Germany",
                tags=("webhook",),
            )
            for n in range(count)
        ]
        self.world.add_livechat_chats(chats)
        sender = WebhookSender(f"{self.world.http_api().url}/webhooks/livechat", retries=2)
        for chat in chats:
            status = sender.post(incoming_chat(chat, secret_key=self.world.webhook_secret))
            self.report.webhooks_sent += status in (200, 202)
        self.say(f"{count} webhooks sent at {self._local()}")

    # -- the event source mappings ---------------------------------------------------------
    def drain(self) -> None:
        """Feed the upload and the bulk function until nothing is left that can go now:
        what waits for Marketo's day or a long delay stays for the time that passes next."""
        self._drain("UploadFunction", self._uploads_settled)
        self._drain("BulkFunction", lambda: True)

    def _drain(self, function: str, settled: Callable[[], bool]) -> None:
        kills = min(self._kills_left, 2)
        pool = self.world.pool(function)
        before = pool.interrupted
        with (
            Killer(
                pool, kills, self.settings.kill_every_s, f"{self.settings.seed}", self.say
            ) as killer,
            Progress(self.world, self.say),
        ):
            deadline = time.monotonic() + self.settings.deadline_s
            while time.monotonic() < deadline:
                if function == "BulkFunction":
                    drained = drain_bulk(self.world, deadline_s=SHORT_WAIT_S)
                else:
                    drained = self.world.drain_queue(
                        function, wait_in_flight=True, deadline_s=SHORT_WAIT_S
                    )
                self.report.invocations += drained.invocations
                self.report.failed_invocations += len(drained.errors)
                if drained.invocations == 0 or settled():
                    break
        self._kills_left -= killer.sent
        self.report.kills_sent += killer.sent
        self.report.kills_mid_invocation += pool.interrupted - before

    def _uploads_settled(self) -> bool:
        """Only messages waiting for the daily cap's reset (or a long delay) are left."""
        return self._budget_left("UploadFunction") <= 0

    def _budget_left(self, function: str) -> int:
        env = self.world.functions[function].environment
        lanes = split(LimiterConfig.from_env(env), Reserve.from_env(env))
        lane = env.get("LIMITER_LANE", "normal")
        config = lanes.get(lane) or next(iter(lanes.values()))
        readout = LimiterReadout(
            self._table, config, self._dynamodb, name=limiter_name(lane), clock=self.now
        ).read()
        return 0 if readout.quota_exhausted else readout.left

    # -- the daily digest ------------------------------------------------------------------
    def digest(self, day: str) -> DigestView | None:
        depth = self.world.queue_depth("DeadLetterQueueUrl")
        try:
            summary = self.world.fire_schedule("DigestFunction", when=self.now()).result
        except InvocationError as exc:
            self.say(f"the digest of {day} failed: {str(exc)[:160]}")
            self.report.digests.append({"day": day, "sent": False, "error": str(exc)[:300]})
            return None
        mails = [m for m in self.world.sent_emails() if m["id"] == summary.get("message_id")]
        view = read_digest(mails[-1]) if mails else None
        self.report.digests.append(
            {
                "day": day,
                "sent": view is not None,
                "since": summary.get("since"),
                "until": summary.get("until"),
                "subject": view.subject if view else None,
                "dead_letters_then": depth,
                "view": view,
            }
        )
        self.say(f"digest of {day}: {view.subject if view else 'none sent'}")
        return view

    def stop(self) -> None:
        for source in self._listening:
            source.stop()
            self.report.invocations += source.report.invocations
        self._listening.clear()

    def _local(self) -> str:
        from local.chaos.settings import MARKETO_ZONE

        return self.now().astimezone(MARKETO_ZONE).strftime("%Y-%m-%d %H:%M %Z")


def moment(day_start: datetime, hours: float) -> datetime:
    return (day_start + timedelta(hours=hours)).astimezone(UTC)
