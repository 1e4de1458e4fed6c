"""The one Marketo client leadsync uses, its configuration, results and exceptions, and
`guard`: retries with backoff and the circuit breaker around its calls (the LiveChat client
reuses the same Guard for its pages)."""

from leadsync.marketo.client import MarketoClient
from leadsync.marketo.config import MarketoClientConfig, MarketoEndpoints
from leadsync.marketo.errors import (
    MarketoAccessDenied,
    MarketoBadResponse,
    MarketoBodyTooLarge,
    MarketoBulkBusy,
    MarketoConcurrencyLimited,
    MarketoCredentialsError,
    MarketoError,
    MarketoNoAnswer,
    MarketoPermanent,
    MarketoQuotaExhausted,
    MarketoRateLimited,
    MarketoRetryable,
    MarketoTokenRejected,
    MarketoUriTooLong,
)
from leadsync.marketo.models import (
    LOCAL_RECORD_TOO_LARGE,
    Envelope,
    ErrorStats,
    ImportJob,
    Lead,
    MarketoReason,
    RecordResult,
    Usage,
)

__all__ = [
    "LOCAL_RECORD_TOO_LARGE",
    "Envelope",
    "ErrorStats",
    "ImportJob",
    "Lead",
    "MarketoAccessDenied",
    "MarketoBadResponse",
    "MarketoBodyTooLarge",
    "MarketoBulkBusy",
    "MarketoClient",
    "MarketoClientConfig",
    "MarketoConcurrencyLimited",
    "MarketoCredentialsError",
    "MarketoEndpoints",
    "MarketoError",
    "MarketoNoAnswer",
    "MarketoPermanent",
    "MarketoQuotaExhausted",
    "MarketoRateLimited",
    "MarketoReason",
    "MarketoRetryable",
    "MarketoTokenRejected",
    "MarketoUriTooLong",
    "RecordResult",
    "Usage",
]
