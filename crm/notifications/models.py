"""Notification tables: the outbox, the manager's template overrides and the notification settings.

The outbox is written in the same transaction as the change that causes a message (a rolled-back
change sends nothing) and read by the dispatcher, which claims due rows, sends them and records the
result. The content is rendered when the row is added, so a message says what was true at the time."""

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm.database import UTCDateTime, utcnow
from crm.extensions import db

# pending: waits for next_attempt_at; sending: claimed by a dispatcher until claimed_until;
# sent: delivered (never sent again); failed: out of attempts or refused for good (the manager may
# retry it); skipped: never sendable (no consent, no usable channel), the reason says why.
STATUSES = ("pending", "sending", "sent", "failed", "skipped")


class OutboxMessage(db.Model):
    __tablename__ = "notifications_outbox"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed', 'skipped')", name="status_known"),
        CheckConstraint("kind IN ('service', 'marketing')", name="kind_known"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        # The dispatcher's "due" query: pending (or abandoned sending) rows in time order.
        Index("ix_notifications_outbox_due", "status", "next_attempt_at"),
        Index("ix_notifications_outbox_customer", "customer_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(10))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers_customer.id", ondelete="CASCADE"))
    # One message per cause: "status:<change id>", "birthday:<customer>:<year>", ... (NULL: no dedupe).
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    channel: Mapped[str | None] = mapped_column(String(16))  # NULL when skipped for want of one
    address: Mapped[str] = mapped_column(String(254), default="")
    language: Mapped[str] = mapped_column(String(10), default="en")
    subject: Mapped[str] = mapped_column(String(300), default="")
    body_text: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str | None] = mapped_column(Text)
    unsubscribe_url: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(String(500), default="")
    provider_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class MessageTemplate(db.Model):
    """A manager's wording for one event, channel and language; without a row the shipped default applies."""

    __tablename__ = "notifications_template"
    __table_args__ = (UniqueConstraint("event", "channel", "language", name="one_per_event_channel_language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_staff.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class NotificationSettings(db.Model):
    """One row (id 1), created with these defaults on the first save."""

    __tablename__ = "notifications_settings"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("quiet_start_minute BETWEEN 0 AND 1439 AND quiet_end_minute BETWEEN 0 AND 1439",
                        name="quiet_hours_in_day"),
        CheckConstraint("max_attempts BETWEEN 1 AND 20 AND catch_up_days BETWEEN 0 AND 60",
                        name="limits_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    # Comma-separated order statuses whose changes message the customer. Received, ready for pickup and
    # picked up have messages of their own and are always sent.
    notify_statuses: Mapped[str] = mapped_column(String(300), default="awaiting_approval,awaiting_parts,cancelled")
    # Marketing waits outside [start, end) in the shop's time zone; start == end means no quiet hours.
    quiet_start_minute: Mapped[int] = mapped_column(Integer, default=21 * 60)
    quiet_end_minute: Mapped[int] = mapped_column(Integer, default=9 * 60)
    max_attempts: Mapped[int] = mapped_column(Integer, default=6)
    # A birthday or anniversary missed while the scheduler was down is still honoured this many days late.
    catch_up_days: Mapped[int] = mapped_column(Integer, default=7)
    # The next Telegram update to read when polling (getUpdates) instead of a webhook.
    telegram_update_offset: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
