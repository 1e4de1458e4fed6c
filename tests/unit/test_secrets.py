from __future__ import annotations

import pytest

from leadsync.errors import ConfigurationError
from leadsync.runtime.secrets import parse_credentials
from tests.support.credentials import SECRET


def test_credentials_default_the_livechat_url_and_hide_secrets() -> None:
    credentials = parse_credentials(SECRET)
    assert str(credentials.livechat_api_url) == "https://api.livechatinc.com/"
    assert credentials.livechat_token.get_secret_value() == "lc-token-value"
    shown = f"{credentials!r} {credentials} {credentials.model_dump()}"
    assert "lc-token-value" not in shown
    assert "mk-secret-value" not in shown


def test_missing_fields_are_named_without_values() -> None:
    broken = {**SECRET, "marketo_rest_url": "not a url"}
    del broken["livechat_token"]
    with pytest.raises(ConfigurationError) as caught:
        parse_credentials(broken)
    assert "livechat_token" in str(caught.value)
    assert "marketo_rest_url" in str(caught.value)
    assert "mk-secret-value" not in str(caught.value)


def test_secret_must_be_an_object() -> None:
    with pytest.raises(ConfigurationError):
        parse_credentials(["x"])
