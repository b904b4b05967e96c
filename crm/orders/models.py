from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.auth.models import StaffUser
from crm.customers.models import Customer
from crm.database import UTCDateTime, utcnow
from crm.extensions import db


class RepairOrder(db.Model):
    __tablename__ = "orders_repair_order"
    __table_args__ = (
        CheckConstraint("estimate_minor IS NULL OR estimate_minor >= 0", name="estimate_not_negative"),
        CheckConstraint("warranty_days >= 0", name="warranty_not_negative"),
        CheckConstraint("priority BETWEEN 0 AND 2", name="priority_known"),
        # The desk list filtered by status, newest first, without sorting the whole status.
        Index("ix_orders_repair_order_status_id", "status", "id"),
        Index("ix_orders_repair_order_technician_status", "technician_id", "status"),
        # The reminder jobs: picked-up orders closed within a few days' range (crm.orders.reminders).
        Index("ix_orders_repair_order_status_closed_at", "status", "closed_at"),
        Index(
            "ix_orders_repair_order_search_text_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers_customer.id"), index=True)
    device_type: Mapped[str] = mapped_column(String(20))
    brand: Mapped[str] = mapped_column(String(60))
    model: Mapped[str] = mapped_column(String(80))
    serial_number: Mapped[str] = mapped_column(String(64), default="")
    imei: Mapped[str] = mapped_column(String(15), default="")
    condition: Mapped[str] = mapped_column(Text, default="")
    accessories: Mapped[str] = mapped_column(String(500), default="")
    problem: Mapped[str] = mapped_column(Text)
    estimate_minor: Mapped[int | None] = mapped_column(Integer)
    due_date: Mapped[date | None] = mapped_column(Date)
    priority: Mapped[int] = mapped_column(SmallInteger, default=0)
    technician_id: Mapped[int | None] = mapped_column(ForeignKey("auth_staff.id"))
    warranty_days: Mapped[int] = mapped_column(Integer, default=90)
    repair_kind: Mapped[str] = mapped_column(String(20), default="")  # crm.orders.device.REPAIR_KINDS, "" unset
    status: Mapped[str] = mapped_column(String(20), default="received")
    # The quote is the order's lines; this counter moves on whenever a line is added or removed, so a
    # customer's decision names the exact quote it answers (crm.orders.quotes).
    quote_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Where an approved quote takes the order (chosen by the technician when asking); None: "in repair".
    approval_target: Mapped[str | None] = mapped_column(String(20))
    # Secret of the customer's tracking link: 192 random bits, URL-safe.
    tracking_token: Mapped[str] = mapped_column(String(64), unique=True)
    search_text: Mapped[str] = mapped_column(String(400), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A warranty return: the earlier order (same customer, within its warranty) this one redoes for free.
    warranty_of_id: Mapped[int | None] = mapped_column(ForeignKey("orders_repair_order.id"), index=True)

    # lazy="raise": list pages must say what they load (no N+1 hidden in templates).
    customer: Mapped[Customer] = relationship(lazy="raise")
    technician: Mapped[StaffUser | None] = relationship(foreign_keys=[technician_id], lazy="raise")
    created_by: Mapped[StaffUser | None] = relationship(foreign_keys=[created_by_id], lazy="raise")
    warranty_of: Mapped["RepairOrder | None"] = relationship(remote_side=[id], lazy="raise")
    lines: Mapped[list["RepairOrderLine"]] = relationship(
        back_populates="order", lazy="raise", order_by="RepairOrderLine.id", cascade="all, delete-orphan")
    history: Mapped[list["OrderStatusChange"]] = relationship(
        back_populates="order", lazy="raise", order_by="OrderStatusChange.id", cascade="all, delete-orphan")


class RepairOrderLine(db.Model):
    """A line of work (labour) or a part used; amounts in minor units of the shop's currency."""

    __tablename__ = "orders_repair_order_line"
    __table_args__ = (
        CheckConstraint("kind IN ('labour', 'part')", name="kind_known"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price_minor >= 0", name="price_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders_repair_order.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    description: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    unit_price_minor: Mapped[int] = mapped_column(Integer)
    # A part taken from the catalogue (and from stock); None for free-text parts and labour.
    item_id: Mapped[int | None] = mapped_column(ForeignKey("orders_catalogue_item.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    order: Mapped[RepairOrder] = relationship(back_populates="lines", lazy="raise")

    @property
    def total_minor(self) -> int:
        return self.quantity * self.unit_price_minor


class OrderStatusChange(db.Model):
    __tablename__ = "orders_status_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders_repair_order.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_staff.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    note: Mapped[str] = mapped_column(String(1000), default="")

    order: Mapped[RepairOrder] = relationship(back_populates="history", lazy="raise")
    changed_by: Mapped[StaffUser | None] = relationship(lazy="raise")


class ReminderSettings(db.Model):
    """The warranty reminder's settings, one row (id 1), read with defaults until the manager first saves it
    (crm.orders.reminders.get_reminder_settings)."""

    __tablename__ = "orders_reminder_settings"
    __table_args__ = (CheckConstraint("warranty_days_before BETWEEN 1 AND 365", name="days_before_in_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    warranty_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    warranty_days_before: Mapped[int] = mapped_column(Integer, default=14)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CheckupRule(db.Model):
    """The check-up reminder for one kind of repair: ``months`` after pickup, with a personal coupon from
    ``coupon_template_id`` when the manager attached one. A kind without a row (or switched off) sends nothing."""

    __tablename__ = "orders_checkup_rule"
    __table_args__ = (CheckConstraint("months BETWEEN 1 AND 60", name="months_in_range"),)

    repair_kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    months: Mapped[int] = mapped_column(Integer, default=12)
    coupon_template_id: Mapped[int | None] = mapped_column(ForeignKey("loyalty_coupon_template.id"))


class QuoteDecision(db.Model):
    """The customer's answer to one version of an order's quote: given through the tracking link, or by
    phone and recorded by the desk (with the staff member and a note). One per order and version."""

    __tablename__ = "orders_quote_decision"
    __table_args__ = (
        UniqueConstraint("order_id", "quote_version"),  # decides once; also the index by order
        CheckConstraint("decision IN ('approved', 'declined')", name="decision_known"),
        CheckConstraint("via IN ('link', 'phone')", name="via_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders_repair_order.id", ondelete="CASCADE"))
    quote_version: Mapped[int] = mapped_column(Integer)
    decision: Mapped[str] = mapped_column(String(10))
    via: Mapped[str] = mapped_column(String(10))
    total_minor: Mapped[int] = mapped_column(Integer)  # the quote's total as the customer saw it
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_staff.id"))  # None: the customer
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    note: Mapped[str] = mapped_column(String(1000), default="")

    decided_by: Mapped[StaffUser | None] = relationship(lazy="raise")
