"""`leadsync check --stack NAME [--fix] [--json] [--list-folder [Program:]ID]`: is a deployed
stack ready to sync? The checks are `readiness/`; this command gathers what they look at
(the fetch function's credentials and clients, the stack's outputs and parameters) and
prints the report."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from typing import TYPE_CHECKING

from leadsync.marketo.schema import Folder
from leadsync.ops.stack import FetchSide, UsageError, client, outputs_of, parameters_of, session

if TYPE_CHECKING:
    from leadsync.readiness.marketo_checks import MarketoSetup
    from leadsync.readiness.service_checks import ServiceSetup
    from leadsync.runtime.secrets import Credentials


def command(args: argparse.Namespace) -> bool:
    """Check the stack (fixing what --fix may); True when it will work."""
    from leadsync.adapters.mail import SendingIdentities
    from leadsync.adapters.schema_verdict import SchemaVerdicts
    from leadsync.readiness.command import run_check

    try:
        folder = folder_of(args.list_folder)
    except ValueError:
        raise UsageError(f"--list-folder: not a folder id: {args.list_folder!r}") from None
    fetch = FetchSide.of(args)
    stack = client(session(args), "cloudformation").describe_stacks(StackName=args.stack)
    described = stack["Stacks"][0]
    outputs, parameters = outputs_of(described), parameters_of(described)
    try:
        report = run_check(
            credentials=fetch.credentials,
            marketo=fetch.clients.marketo,
            marketo_setup=_marketo_setup(fetch.variables, folder),
            service_setup=_service_setup(args.stack, outputs, parameters, fetch.credentials),
            identities=SendingIdentities(),
            verdicts=SchemaVerdicts(fetch.env.state_table),
            fix=args.fix,
        )
    finally:
        fetch.clients.close()
    print(report.json() if args.json else report.text(), flush=True)
    return report.ok


def folder_of(text: str | None) -> Folder | None:
    """`--list-folder 12` (a folder) or `Program:1034`."""
    if not text:
        return None
    kind, _, number = text.rpartition(":")
    return Folder(id=int(number), type=kind or "Folder")


def admins_of(value: str) -> tuple[str, ...]:
    """The addresses of the AdminEmail parameter (comma-separated)."""
    return tuple(a.strip() for a in value.split(",") if a.strip())


def _marketo_setup(variables: Mapping[str, str], folder: Folder | None) -> MarketoSetup:
    from leadsync.activities.config import default_activity_map
    from leadsync.mapping.fieldmap import default_field_map
    from leadsync.readiness.marketo_checks import MarketoSetup
    from leadsync.runtime.config import BulkStagingEnv, FetchEnv, load
    from leadsync.runtime.wiring.fetch import list_rules

    activities = load(FetchEnv, variables).chat_activities
    return MarketoSetup(
        field_map=default_field_map(),
        list_rules=list_rules(),
        bulk_enabled=load(BulkStagingEnv, variables).bulk_enabled,
        list_folder=folder,
        activity_map=default_activity_map() if activities else None,
    )


def _service_setup(
    stack: str, outputs: Mapping[str, str], parameters: Mapping[str, str], credentials: Credentials
) -> ServiceSetup:
    from leadsync.readiness.service_checks import ServiceSetup

    secret = credentials.livechat_webhook_secret
    return ServiceSetup(
        retention_days=int(parameters.get("LiveChatArchiveRetentionDays") or 60),
        webhook_url=outputs.get("WebhookUrl"),
        webhook_secret=secret.get_secret_value() if secret else None,
        client_id=credentials.livechat_client_id,
        sender=parameters.get("SenderEmail", ""),
        admins=admins_of(parameters.get("AdminEmail", "")),
        stack=stack,
    )
