"""The webhooks module's scheduled job: sending the queued deliveries."""

from datetime import datetime

from sqlalchemy.orm import Session

from crm.jobs import every
from crm.webhooks.delivery import deliver

ROUND = 100


@every("webhooks", seconds=30)
def deliver_webhooks(session: Session, now: datetime) -> str:
    """Send every due delivery (in rounds until none is due)."""
    sent = retrying = failed = 0
    while True:
        result = deliver(session, now=now, limit=ROUND)
        sent, retrying, failed = sent + result.sent, retrying + result.retrying, failed + result.failed
        if result.claimed < ROUND:
            return f"delivered {sent}, retrying {retrying}, failed {failed}"
