"""Catalogue items, their categories, and the stock movements that are the only way stock changes."""

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.auth.models import StaffUser
from crm.database import UTCDateTime, utcnow
from crm.extensions import db


class ItemCategory(db.Model):
    """Accessory, spare part, service, ...: rows, not code. ``code`` is the stable key other modules
    (loyalty earn rates) refer to; ``name`` is what the shop sees."""

    __tablename__ = "orders_item_category"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CatalogueItem(db.Model):
    __tablename__ = "orders_catalogue_item"
    __table_args__ = (
        CheckConstraint("price_minor >= 0", name="price_not_negative"),
        CheckConstraint("cost_minor >= 0", name="cost_not_negative"),
        CheckConstraint("on_hand >= 0", name="on_hand_not_negative"),
        CheckConstraint("reorder_level >= 0", name="reorder_level_not_negative"),
        Index(
            "ix_orders_catalogue_item_search_text_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(40), unique=True)  # upper-case, trimmed
    name: Mapped[str] = mapped_column(String(120))
    category_id: Mapped[int] = mapped_column(ForeignKey("orders_item_category.id"), index=True)
    price_minor: Mapped[int] = mapped_column(Integer)
    cost_minor: Mapped[int] = mapped_column(Integer, default=0)
    stock_tracked: Mapped[bool] = mapped_column(Boolean, default=True)
    # A cache of SUM(stock movements), changed only together with a movement in one transaction.
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reorder_level: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    search_text: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    category: Mapped[ItemCategory] = relationship(lazy="raise")


class StockMovement(db.Model):
    """received (+), sold (-), used in a repair (-), returned (+), adjusted (+/-, with a reason)."""

    __tablename__ = "orders_stock_movement"
    __table_args__ = (
        CheckConstraint("kind IN ('received', 'sold', 'used', 'returned', 'adjusted')", name="kind_known"),
        CheckConstraint("quantity <> 0", name="quantity_not_zero"),
        Index("ix_orders_stock_movement_item_id_id", "item_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("orders_catalogue_item.id"))
    kind: Mapped[str] = mapped_column(String(12))
    quantity: Mapped[int] = mapped_column(Integer)  # signed
    reason: Mapped[str] = mapped_column(String(300), default="")
    repair_order_id: Mapped[int | None] = mapped_column(ForeignKey("orders_repair_order.id"), index=True)
    sale_id: Mapped[int | None] = mapped_column(ForeignKey("orders_sale.id"), index=True)
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("orders_refund.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    item: Mapped[CatalogueItem] = relationship(lazy="raise")
    created_by: Mapped[StaffUser | None] = relationship(lazy="raise")
