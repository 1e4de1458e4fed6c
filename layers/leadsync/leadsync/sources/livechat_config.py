"""LiveChat's Configuration API, as far as setting leadsync up needs it: the webhooks an
application owns and the license's archive retention."""

from __future__ import annotations

from typing import Any

import requests
from pydantic import BaseModel, ConfigDict

from leadsync.errors import SourceError
from leadsync.sources.livechat import API_VERSION, DEFAULT_API_URL, post_action

TIMEOUT = (5.0, 15.0)


class Webhook(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str
    url: str
    action: str
    type: str = "license"
    description: str = ""


class LiveChatConfiguration:
    def __init__(
        self,
        account_id: str,
        token: str,
        api_url: str = DEFAULT_API_URL,
        *,
        session: requests.Session | None = None,
    ) -> None:
        self._url = f"{api_url.rstrip('/')}/{API_VERSION}/configuration/action/"
        self._session = session or requests.Session()
        self._session.auth = (account_id, token)

    def close(self) -> None:
        self._session.close()

    def list_webhooks(self, owner_client_id: str) -> list[Webhook]:
        answer = self._call("list_webhooks", {"owner_client_id": owner_client_id})
        if not isinstance(answer, list):
            raise SourceError("LiveChat list_webhooks answered a non-list", retryable=True)
        return [Webhook.model_validate(item) for item in answer if isinstance(item, dict)]

    def register_webhook(
        self, *, url: str, action: str, secret_key: str, owner_client_id: str, description: str
    ) -> str:
        body = {
            "url": url,
            "action": action,
            "secret_key": secret_key,
            "owner_client_id": owner_client_id,
            "type": "license",
            "description": description,
        }
        answer = self._call("register_webhook", body)
        webhook_id = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(webhook_id, str):
            raise SourceError("LiveChat register_webhook answered no id", retryable=False)
        return webhook_id

    def archive_retention_months(self) -> int | None:
        """The license's chat archive retention in months (-1: unlimited); None when the
        license does not say."""
        answer = self._call("list_license_properties", {"namespace": "limits"})
        limits = answer.get("limits") if isinstance(answer, dict) else None
        if not isinstance(limits, dict):
            return None
        values = [limits.get(f"archives_retention.{part}") for part in ("base", "additional")]
        months = [
            int(v) for v in values if isinstance(v, int | str) and str(v).lstrip("-").isdigit()
        ]
        if not months:
            return None
        return -1 if -1 in months else sum(months)

    def _call(self, action: str, body: dict[str, Any]) -> Any:
        return post_action(self._session, self._url, action, body, TIMEOUT)


def _whole(text: str) -> bool:
    return text.removeprefix("-").isdigit()
