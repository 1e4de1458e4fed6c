"""`leadsync check [--fix]`: is a deployed stack ready to sync, and what to do where not.

Marketo first (its calls counted), then LiveChat and its webhook, then SES; the command
line side is `ops/check.py`."""

from __future__ import annotations

from leadsync.marketo.client import MarketoClient
from leadsync.readiness.gate import VerdictStore
from leadsync.readiness.marketo_checks import MarketoSetup, check_marketo
from leadsync.readiness.report import Report
from leadsync.readiness.service_checks import Identities, ServiceSetup, check_livechat, check_mail
from leadsync.runtime.clock import utc_now
from leadsync.runtime.secrets import Credentials
from leadsync.runtime.wiring.clients import livechat_client, livechat_configuration
from leadsync.runtime.wiring.meter import quota_calls


def run_check(
    *,
    credentials: Credentials,
    marketo: MarketoClient,
    marketo_setup: MarketoSetup,
    service_setup: ServiceSetup,
    identities: Identities,
    verdicts: VerdictStore | None,
    fix: bool,
) -> Report:
    now = utc_now()
    report = Report()
    before = quota_calls(marketo.calls)
    check_marketo(marketo, marketo_setup, report, fix=fix, verdicts=verdicts, now=now)
    report.marketo_calls = quota_calls(marketo.calls) - before
    archives = livechat_client(credentials)
    config = livechat_configuration(credentials)
    try:
        check_livechat(archives, config, service_setup, report, now=now, fix=fix)
    finally:
        archives.close()
        config.close()
    check_mail(identities, service_setup, report)
    return report
