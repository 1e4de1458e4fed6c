"""The project's exceptions; adapters translate every dependency's errors into these."""

from __future__ import annotations


class LeadsyncError(Exception):
    """Base of every error leadsync raises on purpose."""

    retryable: bool = False


class ConfigurationError(LeadsyncError):
    """The environment or the credentials are missing or invalid."""


class PermanentError(LeadsyncError):
    """Retrying will not help: a bug, a refusal, or input that can never succeed."""


class InvalidEvent(PermanentError):
    """A Lambda was invoked with an event it does not handle."""


class InvalidMessage(PermanentError):
    """A queue message that is not a valid batch."""


class NotFound(LeadsyncError):
    """The thing asked for does not exist."""


class ConditionFailed(LeadsyncError):
    """A conditional write lost: someone else changed the item first."""


class DependencyError(LeadsyncError):
    """A call to another system failed; `retryable` tells whether trying again may help."""

    def __init__(self, message: str, *, dependency: str, retryable: bool = False) -> None:
        super().__init__(message)
        self.dependency = dependency
        self.retryable = retryable


class SourceError(DependencyError):
    """The source of the chats (LiveChat) failed or refused."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message, dependency="livechat", retryable=retryable)


class RateLimited(DependencyError):
    """A dependency asked us to slow down; always retryable, later."""

    def __init__(self, message: str, *, dependency: str, retry_after: float | None = None) -> None:
        super().__init__(message, dependency=dependency, retryable=True)
        self.retry_after = retry_after
