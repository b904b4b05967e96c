"""The notifications module's scheduled job: sending what the outbox holds."""

from datetime import datetime

from sqlalchemy.orm import Session

from crm.jobs import every
from crm.notifications.dispatch import dispatch


@every("dispatch", seconds=30)
def dispatch_outbox(session: Session, now: datetime) -> str:
    """Send every due message (in rounds of 200 until none is due)."""
    sent = retrying = failed = 0
    while True:
        result = dispatch(session, now=now, limit=200)
        sent, retrying, failed = sent + result.sent, retrying + result.retrying, failed + result.failed
        if result.claimed < 200:
            return f"sent {sent}, retrying {retrying}, failed {failed}"
