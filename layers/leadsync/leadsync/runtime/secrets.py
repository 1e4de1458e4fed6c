"""Credentials of the source and the destination, read from Secrets Manager and cached."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr, ValidationError

from leadsync.errors import ConfigurationError, DependencyError

SECRET_MAX_AGE_SECONDS = 300
_MISSING_CODES = frozenset(
    {"ResourceNotFoundException", "AccessDeniedException", "DecryptionFailure"}
)
_PERMANENT_CODES = frozenset({"InvalidParameterException", "InvalidRequestException"})


class Credentials(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)

    livechat_account_id: str = Field(min_length=1)
    livechat_token: SecretStr
    livechat_api_url: HttpUrl = HttpUrl("https://api.livechatinc.com")
    marketo_client_id: str = Field(min_length=1)
    marketo_client_secret: SecretStr
    marketo_rest_url: HttpUrl
    marketo_identity_url: HttpUrl
    # the secret_key LiveChat's webhooks carry (set when the webhook is registered)
    livechat_webhook_secret: SecretStr | None = None
    # the Client ID of the LiveChat application that owns the webhook (Developer Console)
    livechat_client_id: str | None = None


def parse_credentials(value: object) -> Credentials:
    """Validate a secret's JSON; the error names the fields, never their values."""
    if not isinstance(value, dict):
        raise ConfigurationError("credentials secret must be a JSON object")
    try:
        return Credentials.model_validate(value)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
        raise ConfigurationError(
            "credentials secret is missing or has invalid fields: " + ", ".join(fields)
        ) from None


def load_credentials(secret_name: str) -> Credentials:
    """Fetch (at most every SECRET_MAX_AGE_SECONDS per container) and validate the secret."""
    from aws_lambda_powertools.utilities import parameters
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        value: Any = parameters.get_secret(
            secret_name, transform="json", max_age=SECRET_MAX_AGE_SECONDS
        )
    except parameters.TransformParameterError as exc:
        raise ConfigurationError(f"credentials secret {secret_name!r} is not JSON") from exc
    except parameters.GetParameterError as exc:
        cause = exc.__cause__ or exc.__context__
        code = cause.response["Error"]["Code"] if isinstance(cause, ClientError) else ""
        if code in _MISSING_CODES:
            raise ConfigurationError(
                f"credentials secret {secret_name!r} cannot be read: {code}"
            ) from exc
        raise DependencyError(
            f"Secrets Manager failed reading {secret_name!r}: {code or type(cause).__name__}",
            dependency="secretsmanager",
            retryable=code not in _PERMANENT_CODES,
        ) from exc
    except (BotoCoreError, ClientError) as exc:
        raise DependencyError(
            f"Secrets Manager failed reading {secret_name!r}",
            dependency="secretsmanager",
            retryable=True,
        ) from exc
    return parse_credentials(value)
