"""What a chaos run found: the last line, and every visitor not delivered with why."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ChaosReport:
    visitors: int = 0
    # records the fetches sent each way: queued for the upload, staged as imports
    rest: int = 0
    bulk: int = 0
    delivered: int = 0
    reported: int = 0
    lost: int = 0
    duplicate_leads: int = 0
    protected_overwritten: int = 0
    limit_errors_caused: int = 0
    aws_faults: int = 0  # errors the fault proxy answered the functions' AWS calls with
    livechat_faults: int = 0
    days: int = 0  # Marketo days the run's calls fell on
    # how the run went
    chats: int = 0
    rejected_chats: int = 0  # chats without a usable e-mail, per the LiveChat data
    rejected_in_store: int = 0  # of those, the ones the error store holds as rejected
    seeded: int = 0
    fetch_runs: int = 0
    fetched: bool = False
    fetch_failures: list[str] = field(default_factory=list)
    invocations: int = 0
    failed_invocations: int = 0
    kills_sent: int = 0
    kills_mid_invocation: int = 0
    messages_left: int = 0
    dead_letters: int = 0
    error_entries: int = 0
    digest_sent: bool = False
    digest_problems: list[str] = field(default_factory=list)
    marketo_calls: int = 0
    seconds: float = 0.0
    reported_by_cause: dict[str, int] = field(default_factory=dict)
    lost_by_why: dict[str, int] = field(default_factory=dict)
    lost_visitors: list[dict[str, Any]] = field(default_factory=list)
    duplicated: list[dict[str, Any]] = field(default_factory=list)
    overwritten: list[dict[str, Any]] = field(default_factory=list)
    limit_errors: list[dict[str, Any]] = field(default_factory=list)
    dead_letter_details: list[dict[str, Any]] = field(default_factory=list)
    faults_seen: dict[str, int] = field(default_factory=dict)
    aws_faults_by_kind: dict[str, int] = field(default_factory=dict)
    aws_latency_added: int = 0
    livechat_faults_by_kind: dict[str, int] = field(default_factory=dict)
    bulk_faults: dict[str, int] = field(default_factory=dict)
    bulk_jobs: dict[str, int] = field(default_factory=dict)  # by how they ended
    # chats as activities (ChatActivities on): written, reported, written twice, lost
    activities_on: bool = False
    activities: int = 0
    activities_reported: int = 0
    duplicate_activities: int = 0
    lost_activities: int = 0
    duplicated_activities: list[str] = field(default_factory=list)
    lost_activity_chats: list[str] = field(default_factory=list)
    webhooks_sent: int = 0
    # delivered leads whose livechatChatCount is below the visitor's chats (their chats fell
    # in several fetch windows, and the count is one window's)
    chat_count_behind: int = 0
    # per Marketo day: leadsync's counted calls against its cap, and the day's digest
    calls_by_day: dict[str, int] = field(default_factory=dict)
    # every call Marketo received from leadsync per day, counted against the quota or not
    # (a 5xx, a rate limit): what leadsync itself counts
    calls_received_by_day: dict[str, int] = field(default_factory=dict)
    daily_cap: int = 0
    days_over_cap: list[str] = field(default_factory=list)
    digests: list[dict[str, Any]] = field(default_factory=list)
    # per Marketo day: the day's digest column against what Marketo counted and created
    day_totals: list[dict[str, Any]] = field(default_factory=list)

    @property
    def broken(self) -> bool:
        """Something lost, written twice or overwritten: what `--strict` fails on."""
        doubled = self.duplicate_leads or self.duplicate_activities
        return bool(self.lost or self.lost_activities or doubled or self.protected_overwritten)

    @property
    def digest_agrees(self) -> bool:
        return self.digest_sent and not self.digest_problems

    def line(self) -> str:
        return (
            f"chaos: visitors={self.visitors} rest={self.rest} bulk={self.bulk} "
            f"delivered={self.delivered} reported={self.reported} lost={self.lost} "
            f"duplicate_leads={self.duplicate_leads} "
            f"protected_overwritten={self.protected_overwritten} "
            f"limit_errors_caused={self.limit_errors_caused} aws_faults={self.aws_faults} "
            f"livechat_faults={self.livechat_faults} days={self.days}"
            + (
                f" activities={self.activities} duplicate_activities={self.duplicate_activities}"
                f" lost_activities={self.lost_activities}"
                if self.activities_on
                else ""
            )
        )
