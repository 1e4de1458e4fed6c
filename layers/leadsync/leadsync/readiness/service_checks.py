"""`leadsync check` beyond Marketo: the LiveChat token, its archive retention, the webhook
and its secret, and the SES identities the digest needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from leadsync.errors import LeadsyncError, RateLimited, SourceError
from leadsync.readiness.report import Report
from leadsync.sources.livechat import LiveChatClient
from leadsync.sources.livechat_config import LiveChatConfiguration

ACTION = "incoming_chat"
MIN_SECRET_LENGTH = 16
CONSOLE = "LiveChat Developer Console"


class Identities(Protocol):
    """What SES says (adapters.mail.SendingIdentities)."""

    def in_sandbox(self) -> bool | None: ...

    def status(self, address: str) -> str: ...


@dataclass(frozen=True)
class ServiceSetup:
    retention_days: int
    webhook_url: str | None
    webhook_secret: str | None
    client_id: str | None
    sender: str
    admins: tuple[str, ...]
    stack: str = "leadsync"


def check_livechat(
    archives: LiveChatClient,
    config: LiveChatConfiguration,
    setup: ServiceSetup,
    report: Report,
    *,
    now: datetime,
    fix: bool = False,
) -> None:
    try:
        archives.check(now)
    except (SourceError, RateLimited) as exc:
        scope = "chats--all:ro" in str(exc) or "authorization" in str(exc)
        report.add(
            "livechat token",
            "failed",
            str(exc)[:200],
            "create a Personal Access Token with the chats--all:ro scope"
            if scope
            else "put the account id and a valid Personal Access Token into the stack's secret "
            "(livechat_account_id, livechat_token)",
        )
        return
    report.add("livechat token", "passed", "list_archives answered")
    _retention(config, setup, report)
    _webhook_secret(setup, report)
    _webhook(config, setup, report, fix=fix)


def _retention(config: LiveChatConfiguration, setup: ServiceSetup, report: Report) -> None:
    try:
        months = config.archive_retention_months()
    except LeadsyncError as exc:
        report.add("livechat archive retention", "skipped", f"LiveChat would not say ({exc})")
        return
    if months is None:
        report.add("livechat archive retention", "skipped", "the license does not say")
        return
    if months < 0 or setup.retention_days <= months * 30:
        kept = "unlimited" if months < 0 else f"{months} months"
        detail = f"LiveChat keeps {kept}; LiveChatArchiveRetentionDays is {setup.retention_days}"
        report.add("livechat archive retention", "passed", detail)
        return
    report.add(
        "livechat archive retention",
        "failed",
        f"LiveChat keeps {months} months of chats; LiveChatArchiveRetentionDays is "
        f"{setup.retention_days}",
        f"deploy with LiveChatArchiveRetentionDays={months * 30} or fewer",
    )


def _webhook_secret(setup: ServiceSetup, report: Report) -> None:
    secret = setup.webhook_secret or ""
    if len(secret) < MIN_SECRET_LENGTH:
        report.add(
            "webhook secret",
            "failed",
            "not set" if not secret else f"shorter than {MIN_SECRET_LENGTH} characters",
            "put a long random livechat_webhook_secret into the stack's secret "
            "(for example `openssl rand -hex 32`)",
        )
    else:
        report.add("webhook secret", "passed", "set")


def _webhook(
    config: LiveChatConfiguration, setup: ServiceSetup, report: Report, *, fix: bool
) -> None:
    """Is the `incoming_chat` webhook registered to the stack's WebhookUrl; with `fix` (and a
    secret long enough), register it."""
    secret = setup.webhook_secret or ""
    if not setup.webhook_url:
        report.add("webhook", "skipped", "the stack has no WebhookUrl output")
        return
    steps = (
        f"in the {CONSOLE}, open your app > Chat webhooks, add `{ACTION}` to "
        f"{setup.webhook_url} with the secret key from the stack's secret, then install the "
        "app on your license (Private installation)"
    )
    if not setup.client_id:
        report.add(
            "webhook",
            "failed",
            "cannot look: the secret names no livechat_client_id",
            f"put your app's Client Id from the {CONSOLE} into the secret as "
            "livechat_client_id and run `leadsync check --fix`, or " + steps,
        )
        return
    try:
        hooks = config.list_webhooks(setup.client_id)
    except LeadsyncError as exc:
        report.add(
            "webhook",
            "failed",
            f"LiveChat would not list the webhooks ({str(exc)[:160]})",
            "give the token the webhooks.configuration:rw scope, or " + steps,
        )
        return
    if any(h.action == ACTION and h.url == setup.webhook_url for h in hooks):
        report.add("webhook", "passed", f"`{ACTION}` goes to the stack's WebhookUrl")
        return
    if fix and len(secret) >= MIN_SECRET_LENGTH:
        try:
            config.register_webhook(
                url=setup.webhook_url,
                action=ACTION,
                secret_key=secret,
                owner_client_id=setup.client_id,
                description=f"leadsync {setup.stack}",
            )
        except LeadsyncError as exc:
            report.add("webhook", "failed", f"not registered ({str(exc)[:160]})", steps)
            return
        report.add("webhook", "fixed", f"`{ACTION}` registered to {setup.webhook_url}")
        return
    report.add(
        "webhook",
        "failed",
        f"no `{ACTION}` webhook goes to {setup.webhook_url}",
        "run `leadsync check --fix`, or " + steps,
    )


def check_mail(identities: Identities, setup: ServiceSetup, report: Report) -> None:
    sender = identities.status(setup.sender)
    guide = "SES console > Identities > Create identity, then click the link AWS mails"
    if sender == "verified":
        report.add("ses sender", "passed", "SenderEmail is a verified identity")
    else:
        report.add("ses sender", "failed", f"SenderEmail's identity is {sender}", guide)
    sandbox = identities.in_sandbox()
    if sandbox is False:
        report.add("ses sandbox", "passed", "production access: any recipient")
        return
    report.add(
        "ses sandbox",
        "passed",
        "in the sandbox: only verified recipients"
        if sandbox
        else "could not tell (GetAccount refused): recipients checked as in the sandbox",
    )
    for admin in setup.admins:
        state = identities.status(admin)
        if state == "verified":
            report.add("ses recipient", "passed", f"{_masked(admin)} is verified")
        else:
            report.add(
                "ses recipient",
                "failed",
                f"{_masked(admin)} is {state}: SES in the sandbox will not deliver the digest",
                f"verify it ({guide}), or request production access "
                "(SES console > Account dashboard)",
            )


def _masked(address: str) -> str:
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"
