"""What an operator does around `sam deploy`, done for the local world's stack: the services'
credentials in the stack's secret, the e-mail identities verified in SES, LiveChat's webhook
registered, and an edited list_rules.toml in the functions' layer."""

from __future__ import annotations

import json
from typing import Any

import requests

from local.lambda_runtime import FunctionSpec
from local.stack import DeployedStack


def put_credentials(
    secretsmanager: Any,
    stack: DeployedStack,
    creds: dict[str, str],
    *,
    livechat_url: str,
    marketo_url: str,
) -> None:
    """Fill the stack's secret as an operator does after the first deploy."""
    secret = {
        **creds,
        "livechat_api_url": livechat_url,
        "marketo_rest_url": marketo_url,
        "marketo_identity_url": f"{marketo_url}/identity",
    }
    secretsmanager.put_secret_value(
        SecretId=f"{stack.name}/credentials", SecretString=json.dumps(secret)
    )


def verify_identities(sesv2: Any, sender: str, admins: str) -> None:
    """The sender and, as in SES's sandbox, the admins (comma-separated) become verified
    identities."""
    for address in {sender, *admins.split(",")}:
        sesv2.create_email_identity(EmailIdentity=address.strip())


def register_webhook(livechat_url: str, stack: DeployedStack, creds: dict[str, str]) -> None:
    """LiveChat's `incoming_chat` webhook pointed at the stack, as `leadsync check --fix`
    registers it."""
    url = f"{livechat_url}/v3.6/configuration/action/register_webhook"
    body = {
        "url": stack.outputs["WebhookUrl"],
        "action": "incoming_chat",
        "secret_key": creds["livechat_webhook_secret"],
        "owner_client_id": creds["livechat_client_id"],
        "type": "license",
        "description": f"leadsync {stack.name}",
    }
    auth = (creds["livechat_account_id"], creds["livechat_token"])
    requests.post(url, json=body, auth=auth, timeout=10).raise_for_status()


def write_list_rules(functions: dict[str, FunctionSpec], text: str) -> None:
    """Put the operator's list_rules.toml in the layer every function runs from."""
    folders = {path for spec in functions.values() for path in spec.paths[1:]}
    written = 0
    for folder in folders:
        target = folder / "leadsync" / "lists" / "list_rules.toml"
        if target.exists():
            target.write_text(text, encoding="utf-8")
            written += 1
    if not written:
        raise LookupError("no layer of the stack holds leadsync/lists/list_rules.toml")
