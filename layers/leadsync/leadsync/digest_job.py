"""The daily digest: errors since the last digest and the dead-letter depth, mailed.

The watermark moves only after SES accepted the e-mail: a refused send reports the same
errors again next time.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import AwareDatetime, BaseModel, ConfigDict

from leadsync.clock import Clock, utc_now
from leadsync.digest import render
from leadsync.observability import get_logger
from leadsync.ports import DigestState, MailSender, QueueDepth


class DigestSummary(BaseModel):
    model_config = ConfigDict(frozen=True)

    since: AwareDatetime | None
    until: AwareDatetime
    errors: int
    dead_letters: int
    sent: bool
    message_id: str | None = None


def run(
    *,
    state: DigestState,
    dead_letters: QueueDepth,
    mailer: MailSender,
    recipients: Sequence[str],
    send_all_clear: bool = False,
    now: Clock = utc_now,
) -> DigestSummary:
    logger = get_logger()
    until = now()
    since = state.get_digest_watermark()
    entries = state.errors_between(since, until)
    depth = dead_letters.approximate_depth()
    digest = render(entries, depth, since=since, until=until)
    message_id: str | None = None
    if digest.all_clear and not send_all_clear:
        logger.info("nothing to report; no e-mail sent")
    else:
        message_id = mailer.send(recipients, digest.subject, digest.text, digest.html)
    state.put_digest_watermark(until)
    summary = DigestSummary(
        since=since,
        until=until,
        errors=digest.errors,
        dead_letters=depth,
        sent=message_id is not None,
        message_id=message_id,
    )
    logger.info("digest done", extra=summary.model_dump(mode="json"))
    return summary
