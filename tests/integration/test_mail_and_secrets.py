from __future__ import annotations

import json
import uuid

import boto3
import pytest

from leadsync.adapters.mail import Mailer
from leadsync.errors import ConfigurationError, DependencyError
from leadsync.runtime.secrets import load_credentials
from tests.support.credentials import SECRET

pytestmark = pytest.mark.integration


def test_mail_from_a_verified_sender(moto_server: str) -> None:
    sender = f"leadsync-{uuid.uuid4().hex[:8]}@example.com"
    boto3.client("sesv2").create_email_identity(EmailIdentity=sender)
    message_id = Mailer(sender).send(["admin@example.com"], "subject", "text", "<p>html</p>")
    assert message_id


def test_ses_refusal_is_a_permanent_dependency_error(moto_server: str) -> None:
    with pytest.raises(DependencyError) as caught:
        Mailer("unverified@example.com").send(["admin@example.com"], "s", "t", "<p>h</p>")
    assert caught.value.dependency == "ses"
    assert not caught.value.retryable


def test_credentials_from_secrets_manager(moto_server: str) -> None:
    name = f"leadsync-{uuid.uuid4().hex[:8]}/credentials"
    boto3.client("secretsmanager").create_secret(Name=name, SecretString=json.dumps(SECRET))
    credentials = load_credentials(name)
    assert credentials.livechat_account_id == "acc-1"
    assert credentials.marketo_client_secret.get_secret_value() == "mk-secret-value"


def test_missing_or_broken_secret_is_a_configuration_error(moto_server: str) -> None:
    with pytest.raises(ConfigurationError, match="cannot be read"):
        load_credentials(f"missing-{uuid.uuid4().hex}")
    name = f"broken-{uuid.uuid4().hex[:8]}"
    boto3.client("secretsmanager").create_secret(Name=name, SecretString="not json")
    with pytest.raises(ConfigurationError, match="not JSON"):
        load_credentials(name)
