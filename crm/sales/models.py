"""Sales (a walk-in purchase or the checkout of a repair), their lines, payments and refunds.

A sale starts as an open cart and becomes paid in one checkout transaction. Every amount is an
integer count of minor units; the stored totals are computed by crm.sales.pricing on the server."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.auth.models import StaffUser
from crm.catalogue.models import CatalogueItem
from crm.customers.models import Customer
from crm.database import UTCDateTime, utcnow
from crm.extensions import db
from crm.orders.models import RepairOrder


class SaleStatus(StrEnum):
    OPEN = "open"  # a cart: lines can change
    PAID = "paid"  # checked out in one transaction; only refunds follow


class Sale(db.Model):
    __tablename__ = "orders_sale"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'paid')", name="status_known"),  # SaleStatus
        CheckConstraint("total_minor >= 0", name="total_not_negative"),
        CheckConstraint("change_minor >= 0", name="change_not_negative"),
        Index("ix_orders_sale_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str | None] = mapped_column(String(32), unique=True)  # given at payment
    status: Mapped[str] = mapped_column(String(10), default=SaleStatus.OPEN)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers_customer.id"), index=True)
    # One checkout per repair order: the UNIQUE constraint is the last guard against paying twice.
    repair_order_id: Mapped[int | None] = mapped_column(ForeignKey("orders_repair_order.id"), unique=True)
    subtotal_minor: Mapped[int] = mapped_column(Integer, default=0)
    discount_minor: Mapped[int] = mapped_column(Integer, default=0)
    total_minor: Mapped[int] = mapped_column(Integer, default=0)
    paid_minor: Mapped[int] = mapped_column(Integer, default=0)
    change_minor: Mapped[int] = mapped_column(Integer, default=0)
    # The checkout form's one-time token, and a digest of what that form asked for: a replay with
    # the same token shows the same receipt, the same token with other content is refused.
    checkout_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    checkout_digest: Mapped[str | None] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    paid_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_staff.id"))
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # Loyalty at checkout (see crm.sales.loyalty): the points spent and earned, the balance
    # after both, and the coupon used; the points spent are also an adjustment on the lines.
    points_redeemed: Mapped[int] = mapped_column(Integer, default=0)
    points_earned: Mapped[int] = mapped_column(Integer, default=0)
    points_balance_after: Mapped[int | None] = mapped_column(Integer)
    coupon_code: Mapped[str | None] = mapped_column(String(32))

    customer: Mapped[Customer | None] = relationship(lazy="raise")
    repair_order: Mapped[RepairOrder | None] = relationship(lazy="raise")
    created_by: Mapped[StaffUser | None] = relationship(foreign_keys=[created_by_id], lazy="raise")
    paid_by: Mapped[StaffUser | None] = relationship(foreign_keys=[paid_by_id], lazy="raise")
    lines: Mapped[list["SaleLine"]] = relationship(
        back_populates="sale", lazy="raise", order_by="SaleLine.id", cascade="all, delete-orphan")
    payments: Mapped[list["Payment"]] = relationship(
        back_populates="sale", lazy="raise", order_by="Payment.id", cascade="all, delete-orphan")


class SaleLine(db.Model):
    """An item from the catalogue, or (at a repair's checkout) a copy of the order's work or part line.

    ``discount_minor`` is the desk's line discount; ``adjustment_minor`` is this line's share of
    bill-level reductions (points, coupons) allocated by crm.sales.pricing. ``total_minor`` is
    what the customer pays for the line; refunds are paid back from it, unit by unit."""

    __tablename__ = "orders_sale_line"
    __table_args__ = (
        CheckConstraint("kind IN ('item', 'labour', 'part')", name="kind_known"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price_minor >= 0", name="price_not_negative"),
        CheckConstraint("discount_minor >= 0 AND adjustment_minor >= 0", name="reductions_not_negative"),
        CheckConstraint("total_minor >= 0", name="total_not_negative"),
        CheckConstraint("refunded_quantity >= 0 AND refunded_quantity <= quantity", name="refund_within_quantity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sale_id: Mapped[int] = mapped_column(ForeignKey("orders_sale.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("orders_catalogue_item.id"), index=True)
    repair_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("orders_repair_order_line.id", ondelete="SET NULL"))
    # What loyalty earn rates key on: "repair_labour", "repair_part", or the item category's code.
    category_code: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_minor: Mapped[int] = mapped_column(Integer)
    discount_percent: Mapped[int | None] = mapped_column(Integer)  # in basis points, when typed as "%"
    discount_minor: Mapped[int] = mapped_column(Integer, default=0)
    adjustment_minor: Mapped[int] = mapped_column(Integer, default=0)
    total_minor: Mapped[int] = mapped_column(Integer, default=0)
    refunded_quantity: Mapped[int] = mapped_column(Integer, default=0)
    refunded_minor: Mapped[int] = mapped_column(Integer, default=0)
    # This line's share of the points spent on the bill and of the points the bill earned, and how
    # much of each refunds have given back / taken back so far (rule in crm.sales.loyalty).
    points_spent: Mapped[int] = mapped_column(Integer, default=0)
    points_earned: Mapped[int] = mapped_column(Integer, default=0)
    points_restored: Mapped[int] = mapped_column(Integer, default=0)
    points_reversed: Mapped[int] = mapped_column(Integer, default=0)

    sale: Mapped[Sale] = relationship(back_populates="lines", lazy="raise")
    item: Mapped[CatalogueItem | None] = relationship(lazy="raise")

    @property
    def gross_minor(self) -> int:
        return self.quantity * self.unit_price_minor


class Payment(db.Model):
    """Money taken for a sale. ``amount_minor`` is what pays the bill; for cash, ``tendered_minor``
    is what the customer handed over (the difference is the change given back)."""

    __tablename__ = "orders_payment"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("tendered_minor >= amount_minor", name="tendered_covers_amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sale_id: Mapped[int] = mapped_column(ForeignKey("orders_sale.id", ondelete="CASCADE"), index=True)
    method: Mapped[str] = mapped_column(String(30))
    amount_minor: Mapped[int] = mapped_column(Integer)
    tendered_minor: Mapped[int] = mapped_column(Integer)
    taken_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_staff.id"))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    sale: Mapped[Sale] = relationship(back_populates="payments", lazy="raise")
    taken_by: Mapped[StaffUser | None] = relationship(lazy="raise")


class Refund(db.Model):
    """Money paid back for some units of a sale. ``amount_minor`` is what the customer gets: the
    lines' refunded amounts minus ``points_kept_minor``, the value of points the refunded units
    earned that the customer had already spent (see crm.sales.loyalty)."""

    __tablename__ = "orders_refund"
    __table_args__ = (CheckConstraint("amount_minor >= 0 AND points_kept_minor >= 0", name="amounts_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    sale_id: Mapped[int] = mapped_column(ForeignKey("orders_sale.id"), index=True)
    reason: Mapped[str] = mapped_column(String(500))
    method: Mapped[str] = mapped_column(String(30))
    amount_minor: Mapped[int] = mapped_column(Integer)
    refund_key: Mapped[str] = mapped_column(String(64), unique=True)
    refund_digest: Mapped[str] = mapped_column(String(64))
    points_restored: Mapped[int] = mapped_column(Integer, default=0)
    points_reversed: Mapped[int] = mapped_column(Integer, default=0)
    points_shortfall: Mapped[int] = mapped_column(Integer, default=0)
    points_kept_minor: Mapped[int] = mapped_column(Integer, default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    sale: Mapped[Sale] = relationship(lazy="raise")
    created_by: Mapped[StaffUser | None] = relationship(lazy="raise")
    lines: Mapped[list["RefundLine"]] = relationship(
        back_populates="refund", lazy="raise", order_by="RefundLine.id", cascade="all, delete-orphan")


class RefundLine(db.Model):
    __tablename__ = "orders_refund_line"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("amount_minor >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    refund_id: Mapped[int] = mapped_column(ForeignKey("orders_refund.id", ondelete="CASCADE"), index=True)
    sale_line_id: Mapped[int] = mapped_column(ForeignKey("orders_sale_line.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    amount_minor: Mapped[int] = mapped_column(Integer)
    restocked: Mapped[bool] = mapped_column(default=False)

    refund: Mapped[Refund] = relationship(back_populates="lines", lazy="raise")
    sale_line: Mapped[SaleLine] = relationship(lazy="raise")
