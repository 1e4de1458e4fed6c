"""boto3 clients, created lazily once per process (boto3 honours AWS_ENDPOINT_URL itself), and
what every adapter shares: AWS errors read as the project's exceptions, attempts paced apart."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cache
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from leadsync.errors import DependencyError, LeadsyncError, RateLimited

if TYPE_CHECKING:
    from botocore.config import Config
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sesv2 import SESV2Client
    from mypy_boto3_sqs import SQSClient

CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 15
MAX_ATTEMPTS = 3

AWS_ERRORS = (BotoCoreError, ClientError)

# an AWS error and the action it answered → the project's exception
Translate = Callable[[Exception, str], LeadsyncError]


def _config() -> Config:
    from botocore.config import Config

    return Config(
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS},
    )


@cache
def dynamodb() -> DynamoDBClient:
    import boto3

    return boto3.client("dynamodb", config=_config())


@cache
def sqs() -> SQSClient:
    import boto3

    return boto3.client("sqs", config=_config())


@cache
def sesv2() -> SESV2Client:
    import boto3

    return boto3.client("sesv2", config=_config())


@cache
def s3() -> S3Client:
    import boto3

    return boto3.client("s3", config=_config())


def reset_clients() -> None:
    """Forget the cached clients (tests that move the endpoint or the credentials)."""
    for factory in (dynamodb, sqs, sesv2, s3):
        factory.cache_clear()


def error_code(exc: BaseException) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error")
        if isinstance(error, dict):
            return str(error.get("Code", ""))
    return ""


def classify(
    exc: BaseException,
    *,
    service: str,
    action: str,
    throttling: frozenset[str],
    permanent: frozenset[str],
) -> LeadsyncError:
    """A client error as the project's exception: throttling waits, permanent codes stop,
    anything else may be retried. Each adapter's translate_error names its own codes."""
    code = error_code(exc)
    message = f"{service.upper()} {action} failed: {code or type(exc).__name__}"
    dependency = service.lower()
    if code in throttling:
        return RateLimited(message, dependency=dependency)
    return DependencyError(message, dependency=dependency, retryable=code not in permanent)


def translator(service: str, *, throttling: frozenset[str], permanent: frozenset[str]) -> Translate:
    """The one place where a service's errors become the project's exceptions: `classify`
    with the service's own throttling and permanent codes."""

    def translate(exc: Exception, action: str) -> LeadsyncError:
        return classify(
            exc, service=service, action=action, throttling=throttling, permanent=permanent
        )

    return translate


def paced_attempts(
    attempts: int, sleep: Callable[[float], None], first_pause: float
) -> Iterator[int]:
    """Attempt numbers 0 .. attempts - 1, sleeping before each but the first: `first_pause`,
    then twice as long each time."""
    for attempt in range(attempts):
        if attempt:
            sleep(first_pause * 2 ** (attempt - 1))
        yield attempt
