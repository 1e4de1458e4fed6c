"""One environment model per function, validated once at cold start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from leadsync.errors import ConfigurationError
from leadsync.mapping.sanitize import normalize_email
from leadsync.sync.messages import SQS_MAX_DELAY_SECONDS


def _addresses(value: object) -> list[str]:
    if not isinstance(value, str):
        raise ValueError("must be a comma-separated list of e-mail addresses")
    parts = [part.strip() for part in value.split(",") if part.strip()]
    if not parts:
        raise ValueError("needs at least one e-mail address")
    addresses = []
    for part in parts:
        address = normalize_email(part)
        if address is None:
            raise ValueError(f"not an e-mail address: {part!r}")
        addresses.append(address)
    return addresses


def _names(value: object) -> list[str]:
    """A comma-separated list of names; blank entries dropped."""
    if isinstance(value, list):
        return [str(item).strip() for item in value if str(item).strip()]
    if not isinstance(value, str):
        raise ValueError("must be a comma-separated list")
    return [part.strip() for part in value.split(",") if part.strip()]


def _address(value: object) -> str:
    address = normalize_email(value)
    if address is None:
        raise ValueError("not an e-mail address")
    return address


class _Env(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=True)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """Read the model from environment variables named like its fields, upper-cased."""
        source = os.environ if environ is None else environ
        values = {
            name.upper(): source[name.upper()]
            for name in cls.model_fields
            if name.upper() in source
        }
        try:
            return cls.model_validate({name.lower(): value for name, value in values.items()})
        except ValidationError as exc:
            problems = []
            for error in exc.errors():
                name = ".".join(str(part) for part in error["loc"]).upper() or "environment"
                problems.append(f"{name}: {error['msg']}")
            raise ConfigurationError(
                f"{cls.__name__}: invalid environment: " + "; ".join(problems)
            ) from None


class CommonEnv(_Env):
    state_table: str = Field(min_length=1)
    credentials_secret: str = Field(min_length=1)
    # every chat a custom activity on its visitor's lead (the activity map says which type)
    chat_activities: bool = False


class MarketoLimits(_Env):
    """Every destination limit is configuration; the defaults are Marketo's published ones."""

    marketo_calls_per_window: int = Field(default=50, ge=1)
    marketo_window_seconds: int = Field(default=20, ge=1)
    marketo_max_in_flight: int = Field(default=5, ge=1)
    marketo_daily_cap: int = Field(default=25_000, ge=1)
    marketo_daily_quota: int = Field(default=50_000, ge=1)
    marketo_quota_timezone: str = "America/Chicago"
    marketo_records_per_call: int = Field(default=300, ge=1, le=300)
    marketo_max_body_bytes: int = Field(default=1_048_576, ge=1024)
    # creates and updates of a batch this fresh go out in one createOrUpdate call by e-mail;
    # 0: always createOnly and updateOnly by id
    combined_write_window_seconds: int = Field(default=300, ge=0, le=3600)

    @field_validator("marketo_quota_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _cap_within_quota(self) -> Self:
        if self.marketo_daily_cap > self.marketo_daily_quota:
            raise ValueError("MARKETO_DAILY_CAP must not exceed MARKETO_DAILY_QUOTA")
        return self


class BreakerEnv(_Env):
    """The circuit breaker every function shares per destination (in the state table)."""

    breaker_failure_threshold: int = Field(default=5, ge=1)
    breaker_cooldown_seconds: int = Field(default=60, ge=1, le=900)


class FetchEnv(CommonEnv, MarketoLimits, BreakerEnv):
    sync_queue_url: str = Field(min_length=1)
    fetch_overlap_minutes: int = Field(default=10, ge=0, le=24 * 60)
    fetch_max_window_hours: int = Field(default=24, ge=1)
    fetch_start: AwareDatetime | None = None
    # erasure requests: a queue of e-mails, and chats marked by a session field or a tag
    erasure_queue_url: str | None = None
    erasure_session_field: str | None = None
    erasure_tags: Annotated[list[str], BeforeValidator(_names)] = Field(default_factory=list)

    @field_validator("erasure_queue_url", "erasure_session_field", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _window_beyond_overlap(self) -> Self:
        if self.fetch_max_window_hours * 60 <= self.fetch_overlap_minutes:
            raise ValueError("FETCH_MAX_WINDOW_HOURS must be longer than FETCH_OVERLAP_MINUTES")
        return self


class UploadEnv(CommonEnv, MarketoLimits, BreakerEnv):
    # work that must wait for the budget goes back on this queue with a delay
    sync_queue_url: str = Field(min_length=1)
    # where a batch goes, with its history, once its deliveries are spent
    dead_letter_queue_url: str = Field(min_length=1)
    upload_max_attempts: int = Field(default=4, ge=1, le=20)


class WebhookEnv(CommonEnv):
    # the priority lane's queue: the visitors of webhooks, served before hourly work
    priority_queue_url: str = Field(min_length=1)


class HealthEnv(CommonEnv, MarketoLimits):
    sync_queue_url: str = Field(min_length=1)
    dead_letter_queue_url: str = Field(min_length=1)
    priority_queue_url: str | None = None
    # older than this, the last successful hourly run makes leadsync unhealthy
    health_max_run_age_minutes: int = Field(default=120, ge=1)


class DigestEnv(CommonEnv, MarketoLimits):
    # MarketoLimits: the daily cap and quota, and the time zone of the day the totals count
    dead_letter_queue_url: str = Field(min_length=1)
    admin_email: Annotated[list[str], BeforeValidator(_addresses)]
    sender_email: Annotated[str, BeforeValidator(_address)]
    digest_send_all_clear: bool = False
    # bulk imports still waiting at Marketo after this are reported as stuck
    bulk_stuck_after_minutes: int = Field(default=60, ge=1)


def _seconds(value: object) -> list[int]:
    """A comma-separated list of whole seconds ("5,10,20,30")."""
    parts = _names(value)
    if not parts:
        raise ValueError("needs at least one number of seconds")
    try:
        return [int(part) for part in parts]
    except ValueError:
        raise ValueError("must be whole seconds separated by commas") from None


class BulkStagingEnv(_Env):
    """Where the fetch (and `leadsync backfill`) stage bulk imports, and when they choose
    to. Without a bulk queue and bucket every record takes the REST path."""

    bulk_queue_url: str | None = None
    bulk_bucket: str | None = None
    # records an import can carry from which a run takes the bulk path; 0: never
    bulk_threshold_records: int = Field(default=10_000, ge=0)
    # an import file's size limit (Marketo takes less than 10 MB)
    bulk_max_file_bytes: int = Field(default=10_420_224, ge=1024, le=10_485_759)

    @field_validator("bulk_queue_url", "bulk_bucket", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def bulk_enabled(self) -> bool:
        return bool(self.bulk_queue_url and self.bulk_bucket and self.bulk_threshold_records)


class BulkEnv(CommonEnv, MarketoLimits):
    bulk_queue_url: str = Field(min_length=1)
    bulk_bucket: str = Field(min_length=1)
    # a job given up on at Marketo sends its records here (the REST path)
    sync_queue_url: str = Field(min_length=1)
    bulk_running_slots: int = Field(default=2, ge=1, le=10)
    bulk_queued_slots: int = Field(default=10, ge=1, le=10)
    bulk_poll_delays_seconds: Annotated[list[int], BeforeValidator(_seconds)] = Field(
        default_factory=lambda: [5, 10, 20, 30]
    )
    bulk_stuck_after_minutes: int = Field(default=60, ge=1)
    bulk_give_up_after_hours: int = Field(default=24, ge=1, le=24 * 7)
    bulk_max_submissions: int = Field(default=3, ge=1, le=10)
    bulk_warnings_are_failures: bool = False

    @field_validator("bulk_poll_delays_seconds")
    @classmethod
    def _delays(cls, value: list[int]) -> list[int]:
        if any(not 0 <= delay <= SQS_MAX_DELAY_SECONDS for delay in value):
            raise ValueError(
                f"each delay must be 0 to {SQS_MAX_DELAY_SECONDS} seconds (SQS's longest delay)"
            )
        return value

    @model_validator(mode="after")
    def _slots(self) -> Self:
        if self.bulk_running_slots > self.bulk_queued_slots:
            raise ValueError("BULK_RUNNING_SLOTS must not exceed BULK_QUEUED_SLOTS")
        if self.bulk_give_up_after_hours * 60 <= self.bulk_stuck_after_minutes:
            raise ValueError("BULK_GIVE_UP_AFTER_HOURS must come after BULK_STUCK_AFTER_MINUTES")
        return self


class BackfillEnv(_Env):
    """`leadsync backfill`: how far back LiveChat still keeps archives (2 months on its
    Starter plan, longer on others), and the span read per window."""

    livechat_archive_retention_days: int = Field(default=60, ge=1)
    backfill_window_hours: int = Field(default=24, ge=1, le=24 * 7)


def load[EnvT: _Env](model: type[EnvT], environ: Mapping[str, str] | None = None) -> EnvT:
    """Validate `model` from the environment; raise ConfigurationError naming every problem."""
    return model.from_env(environ)
