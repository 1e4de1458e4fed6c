"""SES v2: one e-mail with a text and an HTML part; refusals become project exceptions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from leadsync.adapters import aws
from leadsync.adapters.aws import AWS_ERRORS

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client

translate_error = aws.translator(
    "SES",
    throttling=frozenset({"TooManyRequestsException", "LimitExceededException", "Throttling"}),
    permanent=frozenset(
        {
            "MessageRejected",
            "MailFromDomainNotVerifiedException",
            "AccountSuspendedException",
            "SendingPausedException",
            "BadRequestException",
            "NotFoundException",
            "AccessDenied",
            "AccessDeniedException",
        }
    ),
)


class Mailer:
    def __init__(self, sender: str, client: SESV2Client | None = None) -> None:
        self._sender = sender
        self._client = client or aws.sesv2()

    def send(self, to: Sequence[str], subject: str, text: str, html: str) -> str:
        """Send one message to `to`; return SES's message id."""
        try:
            answer = self._client.send_email(
                FromEmailAddress=self._sender,
                Destination={"ToAddresses": list(to)},
                Content={
                    "Simple": {
                        "Subject": {"Data": subject, "Charset": "UTF-8"},
                        "Body": {
                            "Text": {"Data": text, "Charset": "UTF-8"},
                            "Html": {"Data": html, "Charset": "UTF-8"},
                        },
                    }
                },
            )
        except AWS_ERRORS as exc:
            raise translate_error(exc, "SendEmail") from exc
        return answer.get("MessageId", "")


class SendingIdentities:
    """What SES says of the addresses the digest goes from and to."""

    def __init__(self, client: SESV2Client | None = None) -> None:
        self._client = client or aws.sesv2()

    def in_sandbox(self) -> bool | None:
        """True while SES sends only to verified addresses; None when SES will not say."""
        try:
            account = self._client.get_account()
        except AWS_ERRORS:
            return None
        return not account.get("ProductionAccessEnabled", False)

    def status(self, address: str) -> str:
        """`verified`, `pending`, `failed` or `missing`: the address's own identity, else its
        domain's."""
        domain = address.rpartition("@")[2]
        for identity in (address, domain):
            try:
                found = self._client.get_email_identity(EmailIdentity=identity)
            except AWS_ERRORS as exc:
                if aws.error_code(exc) == "NotFoundException":
                    continue
                raise translate_error(exc, "GetEmailIdentity") from exc
            status = str(found.get("VerificationStatus", "PENDING")).lower()
            if found.get("VerifiedForSendingStatus") or status == "success":
                return "verified"
            return status
        return "missing"
