"""The dispatcher: claims due outbox rows, sends them, records the result.

Claiming is one short transaction: due rows are selected (on PostgreSQL ``FOR UPDATE SKIP LOCKED``,
so two dispatchers take different rows; SQLite serialises the claim with BEGIN IMMEDIATE) and marked
"sending" with a lease. Sending happens outside any transaction, so no lock is held while a mail
server is slow. The result is recorded in a second short transaction. A row whose dispatcher died
mid-send is claimed again when its lease runs out: delivery is at least once, and the message keeps
the outbox id as its Message-ID / idempotency key so a provider can recognise a repeat.

Because it needs several transactions, ``dispatch`` commits; it is called by the scheduler's job
wrapper, the CLI and tests, never inside a request's unit of work.

The claiming, recording, retry-or-fail and manual-retry functions take the queue's model (``OutboxMessage`` by
default): another queue with the same state columns (status, attempts, next_attempt_at, claimed_until,
last_error, sent_at), such as crm.webhooks' deliveries, is delivered by these same functions."""

from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from crm.database import utcnow
from crm.notifications import settings as notification_settings
from crm.notifications.channels import ChannelError, OutgoingMessage, channels_from_config
from crm.notifications.events import MARKETING
from crm.notifications.models import OutboxMessage
from crm.notifications.outbox import after_quiet_hours

LEASE = timedelta(minutes=5)
MAX_BACKOFF = timedelta(hours=6)


@dataclass
class DispatchResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def claimed(self) -> int:
        return self.sent + self.retrying + self.failed


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    channel: str
    message: OutgoingMessage
    attempts: int


def backoff(attempts: int) -> timedelta:
    """Wait before the next try: base, 2 x base, 4 x base, ... capped at six hours."""
    base = timedelta(seconds=current_app.config.get("NOTIFY_RETRY_BASE_SECONDS", 60))
    return min(base * (2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def due_condition(now: datetime, model=OutboxMessage):
    return or_(and_(model.status == "pending", model.next_attempt_at <= now),
               and_(model.status == "sending", model.claimed_until < now))


def claim_rows(session: Session, model, *, now: datetime, limit: int) -> list:
    """Mark up to ``limit`` due rows of ``model``'s queue "sending" with a lease and one more attempt, and return
    them; the caller reads what it needs from them and commits the claim."""
    query = (select(model).where(due_condition(now, model)).order_by(model.next_attempt_at, model.id).limit(limit))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    rows = list(session.scalars(query))
    for row in rows:
        row.status, row.claimed_until, row.attempts = "sending", now + LEASE, row.attempts + 1
    return rows


def claim(session: Session, *, now: datetime, limit: int) -> list[Claimed]:
    """Take up to ``limit`` due rows for this dispatcher and commit the claim."""
    claimed = []
    for row in claim_rows(session, OutboxMessage, now=now, limit=limit):
        headers = ()
        if row.unsubscribe_url:
            headers = (("List-Unsubscribe", f"<{row.unsubscribe_url}>"),
                       ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))
        claimed.append(Claimed(row.id, row.kind, row.channel or "", OutgoingMessage(
            message_id=str(row.id), to=row.address, subject=row.subject, text=row.body_text, html=row.body_html,
            headers=headers), row.attempts))
    session.commit()
    return claimed


def record(session: Session, model, row_id: int, values: dict) -> None:
    """Write a send's result on a claimed row and commit. Only the dispatcher holding the claim records; a row
    re-claimed after a lost lease is left alone."""
    session.execute(update(model)
                    .where(model.id == row_id, model.status == "sending")
                    .values(claimed_until=None, **values)
                    .execution_options(synchronize_session=False))
    session.commit()


def record_sent(session: Session, model, row_id: int, **values) -> None:
    record(session, model, row_id, dict(status="sent", sent_at=utcnow(), last_error="", **values))


def record_failure(session: Session, model, row_id: int, attempts: int, error: ChannelError, *, max_attempts: int,
                   now: datetime, retry_at: datetime | None = None, **values) -> bool:
    """A failed send: failed for good (True) when the error is permanent or the attempts are used up, else pending
    again at ``retry_at`` (default: after the backoff for this attempt)."""
    if error.permanent or attempts >= max_attempts:
        record(session, model, row_id, dict(status="failed", last_error=error.reason[:500], **values))
        return True
    when = retry_at or now + backoff(attempts)
    record(session, model, row_id, dict(status="pending", next_attempt_at=when, last_error=error.reason[:500],
                                        **values))
    return False


def dispatch(session: Session, *, now: datetime | None = None, limit: int = 200, channels=None) -> DispatchResult:
    """Send what is due. Transient failures retry with exponential backoff up to the settings'
    maximum of attempts, then the row stays failed with the reason; refusals for good fail at once."""
    now = now or utcnow()
    channels = channels or channels_from_config(current_app.config)
    settings = notification_settings.get_settings(session)
    max_attempts, quiet = settings.max_attempts, (settings.quiet_start_minute, settings.quiet_end_minute)
    session.commit()
    result = DispatchResult()
    with ExitStack() as batches:
        for channel in channels.values():  # channels that can keep a connection for the round (SMTP)
            if channel.configured and hasattr(channel, "__enter__"):
                batches.enter_context(channel)
        for item in claim(session, now=now, limit=limit):
            _send(session, channels.get(item.channel), item, now, max_attempts, quiet, result)
    return result


def _send(session: Session, channel, item: Claimed, now: datetime, max_attempts: int, quiet: tuple[int, int],
          result: DispatchResult) -> None:
    """Send one claimed message and record what happened."""
    try:
        if channel is None or not channel.configured:
            raise ChannelError(f"The {item.channel or 'message'} channel is not configured.", permanent=False)
        sent = channel.send(item.message)
    except ChannelError as error:
        retry_at = now + backoff(item.attempts)
        if item.kind == MARKETING:
            retry_at = after_quiet_hours(retry_at, *quiet)
        if record_failure(session, OutboxMessage, item.id, item.attempts, error, max_attempts=max_attempts, now=now,
                          retry_at=retry_at):
            result.failed += 1
        else:
            result.retrying += 1
        return
    record_sent(session, OutboxMessage, item.id, provider_id=(sent.provider_id or "")[:200] or None)
    result.sent += 1


def retry(session: Session, message_id: int, *, now: datetime | None = None, model=OutboxMessage) -> bool:
    """The manager's "try again" on a failed message: pending now, with a fresh count of attempts."""
    result = session.execute(update(model)
                             .where(model.id == message_id, model.status == "failed")
                             .values(status="pending", attempts=0, next_attempt_at=now or utcnow(), last_error="")
                             .execution_options(synchronize_session=False))
    return bool(result.rowcount)
