from __future__ import annotations

import pytest

from leadsync.errors import ConfigurationError
from leadsync.runtime.config import DigestEnv, FetchEnv, UploadEnv, load

BASE = {"STATE_TABLE": "state", "CREDENTIALS_SECRET": "leadsync/credentials"}
UPLOAD = {"SYNC_QUEUE_URL": "https://sqs/q", "DEAD_LETTER_QUEUE_URL": "https://sqs/dlq"}


def test_fetch_env_with_template_defaults() -> None:
    env = load(
        FetchEnv,
        {
            **BASE,
            "SYNC_QUEUE_URL": "https://sqs/q",
            "FETCH_OVERLAP_MINUTES": "10",
            "MARKETO_RECORDS_PER_CALL": "300",
            "MARKETO_MAX_BODY_BYTES": "1048576",
        },
    )
    assert env.fetch_overlap_minutes == 10
    assert env.marketo_records_per_call == 300
    assert env.marketo_quota_timezone == "America/Chicago"
    assert env.fetch_start is None


def test_missing_and_invalid_variables_are_all_named() -> None:
    with pytest.raises(ConfigurationError) as caught:
        load(FetchEnv, {"MARKETO_RECORDS_PER_CALL": "301", "FETCH_OVERLAP_MINUTES": "ten"})
    message = str(caught.value)
    for name in (
        "STATE_TABLE",
        "CREDENTIALS_SECRET",
        "SYNC_QUEUE_URL",
        "MARKETO_RECORDS_PER_CALL",
        "FETCH_OVERLAP_MINUTES",
    ):
        assert name in message


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MARKETO_QUOTA_TIMEZONE", "Mars/Olympus"),
        ("MARKETO_CALLS_PER_WINDOW", "0"),
        ("MARKETO_MAX_BODY_BYTES", "10"),
        ("MARKETO_DAILY_CAP", "60000"),
    ],
)
def test_invalid_limits_are_refused(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError):
        load(UploadEnv, {**BASE, **UPLOAD, name: value})


def _digest_env(admin_email: str, **more: str) -> DigestEnv:
    """DigestEnv from BASE, a dead-letter queue, these admin addresses and a sender."""
    return load(
        DigestEnv,
        {
            **BASE,
            "DEAD_LETTER_QUEUE_URL": "https://sqs/dlq",
            "ADMIN_EMAIL": admin_email,
            "SENDER_EMAIL": "leadsync@example.com",
            **more,
        },
    )


def test_digest_env_splits_admin_addresses() -> None:
    env = _digest_env("Admin@Example.com, ops@example.com", DIGEST_SEND_ALL_CLEAR="true")
    assert env.admin_email == ["admin@example.com", "ops@example.com"]
    assert env.digest_send_all_clear is True


def test_digest_env_refuses_bad_addresses() -> None:
    with pytest.raises(ConfigurationError, match="ADMIN_EMAIL"):
        _digest_env("ops, x@", DEAD_LETTER_QUEUE_URL="u")


def test_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {**BASE, **UPLOAD}.items():
        monkeypatch.setenv(key, value)
    assert load(UploadEnv).state_table == "state"
