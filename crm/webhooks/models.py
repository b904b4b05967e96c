"""Webhook tables: the endpoints the manager registers and the deliveries queued for them.

A delivery is one event for one endpoint: its body is fixed when the event happens (so every retry sends the
same bytes and the same event id) and it is signed when it is sent, with the endpoint's secret of that moment.
Its state columns are the outbox's (crm.notifications.models.OutboxMessage), so the dispatcher's claim, record,
backoff and retry functions deliver it."""

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm.database import UTCDateTime, utcnow
from crm.extensions import db

STATUSES = ("pending", "sending", "sent", "failed")


class WebhookEndpoint(db.Model):
    __tablename__ = "webhooks_endpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(String(120), default="")
    # The events it wants, comma-separated and with a comma at each end (",order.ready,sale.paid,").
    events: Mapped[str] = mapped_column(String(300), default=",")
    # Kept as it is: every delivery is signed with it. Shown to the manager once, when it is made.
    secret: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    secret_created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def event_codes(self) -> list[str]:
        return [code for code in self.events.split(",") if code]


class WebhookDelivery(db.Model):
    __tablename__ = "webhooks_delivery"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name="status_known"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        UniqueConstraint("endpoint_id", "event_id", name="one_per_endpoint_and_event"),
        Index("ix_webhooks_delivery_due", "status", "next_attempt_at"),  # the dispatcher's "due" query
        Index("ix_webhooks_delivery_endpoint", "endpoint_id", "id"),  # an endpoint's recent deliveries
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhooks_endpoint.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(40))  # "evt_..."; the same for every endpoint and every retry
    event: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)  # the JSON sent, byte for byte
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str] = mapped_column(String(500), default="")
    response_status: Mapped[int | None] = mapped_column(Integer)  # the HTTP status of the last answer
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
