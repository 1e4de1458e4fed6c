"""The credentials secret the tests use: every field leadsync's secret holds, made-up values."""

from __future__ import annotations

SECRET = {
    "livechat_account_id": "acc-1",
    "livechat_token": "lc-token-value",
    "marketo_client_id": "client",
    "marketo_client_secret": "mk-secret-value",
    "marketo_rest_url": "https://123-abc-456.mktorest.com",
    "marketo_identity_url": "https://123-abc-456.mktorest.com/identity",
}
