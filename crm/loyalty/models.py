"""Loyalty tables: the program's settings, tiers, accounts, the points ledger
with its lots, coupons, and the activity that tiers are measured on.

Points are whole numbers. Every change of a balance is a row of ``loyalty_ledger_entry``; the
balance on ``loyalty_account`` is a cache written in the same transaction (see ledger.py)."""

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.audit import AuditEntry as AuditEntry  # the settings' change log, now in crm.audit; imported from here too
from crm.auth.models import StaffUser
from crm.customers.models import Customer
from crm.database import UTCDateTime, utcnow
from crm.extensions import db


class Program(db.Model):
    """The program's settings: one row (id 1), inserted with the defaults by migration 0008."""

    __tablename__ = "loyalty_program"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("enrolment IN ('automatic', 'opt_in')", name="enrolment_known"),
        CheckConstraint("point_value_minor > 0", name="point_value_positive"),
        CheckConstraint("redeem_cap_bp BETWEEN 0 AND 10000", name="cap_is_share"),
        CheckConstraint("min_balance_to_redeem >= 0 AND expiry_months >= 0 AND expiry_warning_days >= 0 "
                        "AND tier_window_months > 0", name="counts_not_negative"),
        CheckConstraint("welcome_bonus >= 0 AND birthday_bonus >= 0 AND anniversary_bonus >= 0 "
                        "AND referral_bonus >= 0 AND referee_bonus >= 0", name="bonuses_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # automatic: a customer with marketing consent is enrolled at their first paid checkout;
    # opt_in: only when the desk enrols them on the customer's page.
    enrolment: Mapped[str] = mapped_column(String(10), default="automatic")
    point_value_minor: Mapped[int] = mapped_column(Integer, default=100)  # 1 point = 1.00
    redeem_cap_bp: Mapped[int] = mapped_column(Integer, default=3000)  # points pay at most 30% of a bill
    min_balance_to_redeem: Mapped[int] = mapped_column(Integer, default=0)
    # Comma-separated category codes on which points may be spent.
    redeem_categories: Mapped[str] = mapped_column(String(500), default="repair_labour,repair_part,accessory,service")
    expiry_months: Mapped[int] = mapped_column(Integer, default=12)  # 0 = points never expire
    expiry_warning_days: Mapped[int] = mapped_column(Integer, default=14)
    welcome_bonus: Mapped[int] = mapped_column(Integer, default=50)
    birthday_bonus: Mapped[int] = mapped_column(Integer, default=100)
    anniversary_bonus: Mapped[int] = mapped_column(Integer, default=100)
    referral_bonus: Mapped[int] = mapped_column(Integer, default=100)  # to the customer who referred
    referee_bonus: Mapped[int] = mapped_column(Integer, default=50)  # to the newcomer
    tier_window_months: Mapped[int] = mapped_column(Integer, default=12)
    # The personal coupon issued after every paid repair (None: no coupon).
    repair_coupon_template_id: Mapped[int | None] = mapped_column(
        ForeignKey("loyalty_coupon_template.id", name="fk_loyalty_program_repair_coupon_template"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EarnRate(db.Model):
    """Percentage of the money paid on a line that comes back as points, per line category
    (repair_labour, repair_part, or an item category's code). A category without a row earns nothing."""

    __tablename__ = "loyalty_earn_rate"
    __table_args__ = (CheckConstraint("rate_bp BETWEEN 0 AND 10000", name="rate_is_share"),)

    category_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    rate_bp: Mapped[int] = mapped_column(Integer)


class Tier(db.Model):
    """A level of the program. A customer qualifies when, over the rolling window, their net spend
    reaches ``min_spend_minor`` or their paid repairs reach ``min_repairs`` (a criterion left empty
    does not count); a tier with neither is the entry tier everyone starts in. ``rank`` orders tiers."""

    __tablename__ = "loyalty_tier"
    __table_args__ = (
        CheckConstraint("earn_multiplier_pct BETWEEN 0 AND 1000", name="multiplier_known"),
        CheckConstraint("accessory_discount_bp BETWEEN 0 AND 10000", name="discount_is_share"),
        CheckConstraint("(min_spend_minor IS NULL OR min_spend_minor >= 0) AND "
                        "(min_repairs IS NULL OR min_repairs >= 0)", name="criteria_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    rank: Mapped[int] = mapped_column(Integer, unique=True)
    min_spend_minor: Mapped[int | None] = mapped_column(Integer)
    min_repairs: Mapped[int | None] = mapped_column(Integer)
    earn_multiplier_pct: Mapped[int] = mapped_column(Integer, default=100)  # 150 = points x 1.5
    accessory_discount_bp: Mapped[int] = mapped_column(Integer, default=0)
    free_diagnostics: Mapped[bool] = mapped_column(Boolean, default=False)
    queue_priority: Mapped[bool] = mapped_column(Boolean, default=False)


class Account(db.Model):
    """A customer's membership: the balance cache, the tier, the referral code and who referred them.

    The row is locked before the balance is read (FOR UPDATE on PostgreSQL; SQLite write
    transactions begin immediately) and the balance never goes below zero (CHECK)."""

    __tablename__ = "loyalty_account"
    __table_args__ = (
        CheckConstraint("balance >= 0", name="balance_not_negative"),
        CheckConstraint("referred_by_id IS NULL OR referred_by_id <> customer_id", name="no_self_referral"),
    )

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers_customer.id", ondelete="CASCADE"),
                                             primary_key=True)
    balance: Mapped[int] = mapped_column(Integer, default=0)
    tier_id: Mapped[int | None] = mapped_column(ForeignKey("loyalty_tier.id"), index=True)
    tier_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    referral_code: Mapped[str] = mapped_column(String(16), unique=True)
    referred_by_id: Mapped[int | None] = mapped_column(ForeignKey("customers_customer.id"), index=True)
    referral_rewarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_purchase_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # month * 100 + day of the first purchase in the shop's time zone: the anniversary job's index.
    first_purchase_mmdd: Mapped[int | None] = mapped_column(SmallInteger, index=True)
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Who enrolled the member (None: before this was recorded, or the program itself, e.g. a referral link).
    enrolled_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_staff.id"))

    customer: Mapped[Customer] = relationship(foreign_keys=[customer_id], lazy="raise")
    tier: Mapped[Tier | None] = relationship(lazy="raise")


ENTRY_KINDS = ("earn", "redeem", "expire", "adjust", "bonus", "referral", "reversal")


class LedgerEntry(db.Model):
    """One change of a balance. Append-only: rows are never updated except ``remaining``, the part of
    a positive entry (a lot) not yet spent or expired. ``idempotency_key`` is UNIQUE: the same
    cause (a payment, a refund, a job run) can never post twice."""

    __tablename__ = "loyalty_ledger_entry"
    __table_args__ = (
        CheckConstraint("kind IN ('earn', 'redeem', 'expire', 'adjust', 'bonus', 'referral', 'reversal')",
                        name="kind_known"),
        CheckConstraint("points <> 0", name="points_not_zero"),
        CheckConstraint("(points > 0 AND remaining BETWEEN 0 AND points) OR (points < 0 AND remaining IS NULL)",
                        name="lot_remaining_within_points"),
        CheckConstraint("balance_after >= 0", name="balance_after_not_negative"),
        Index("ix_loyalty_ledger_entry_customer_id_id", "customer_id", "id"),
        # Open lots, oldest first, per customer; and the expiry job's "due and not yet done".
        Index("ix_loyalty_ledger_entry_open_lots", "customer_id", "expires_at", "id",
              postgresql_where=text("remaining > 0"), sqlite_where=text("remaining > 0")),
        Index("ix_loyalty_ledger_entry_expiring", "expires_at",
              postgresql_where=text("remaining > 0"), sqlite_where=text("remaining > 0")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers_customer.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10))
    points: Mapped[int] = mapped_column(Integer)
    remaining: Mapped[int | None] = mapped_column(Integer)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    balance_after: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(500), default="")
    reference: Mapped[str] = mapped_column(String(64), default="", index=True)  # "sale:12", "refund:3", ...
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    # Points that a reversal could not take back because they were already spent (see ledger.reverse).
    unrecovered: Mapped[int] = mapped_column(Integer, default=0)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("auth_staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    author: Mapped[StaffUser | None] = relationship(lazy="raise")


class LotUse(db.Model):
    """How many points a negative entry took from which lot: lot.points - lot.remaining always equals
    the sum of its uses (a tested invariant)."""

    __tablename__ = "loyalty_lot_use"
    __table_args__ = (CheckConstraint("points > 0", name="points_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("loyalty_ledger_entry.id", ondelete="CASCADE"), index=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("loyalty_ledger_entry.id", ondelete="CASCADE"), index=True)
    points: Mapped[int] = mapped_column(Integer)


class Activity(db.Model):
    """What tiers are measured on: money paid (net of refunds) and paid repairs, per customer and time.
    Written by checkout and refunds through crm.loyalty.checkout; tiers sum it over the window in SQL."""

    __tablename__ = "loyalty_activity"
    __table_args__ = (Index("ix_loyalty_activity_customer_id_at", "customer_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers_customer.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    spend_minor: Mapped[int] = mapped_column(Integer)  # negative for a refund
    repairs: Mapped[int] = mapped_column(Integer, default=0)
    reference: Mapped[str] = mapped_column(String(64), unique=True)


class TierChange(db.Model):
    """Every move between tiers, with the reason: answers "why am I Silver?"."""

    __tablename__ = "loyalty_tier_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers_customer.id", ondelete="CASCADE"), index=True)
    from_tier_id: Mapped[int | None] = mapped_column(ForeignKey("loyalty_tier.id"))
    to_tier_id: Mapped[int | None] = mapped_column(ForeignKey("loyalty_tier.id"))
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    from_tier: Mapped[Tier | None] = relationship(foreign_keys=[from_tier_id], lazy="raise")
    to_tier: Mapped[Tier | None] = relationship(foreign_keys=[to_tier_id], lazy="raise")


class CouponTemplate(db.Model):
    """What a coupon gives: a percentage or a fixed amount off the lines of some categories, on a
    bill of at least ``min_bill_minor``, for ``validity_days`` after it is issued."""

    __tablename__ = "loyalty_coupon_template"
    __table_args__ = (
        CheckConstraint("kind IN ('percent', 'fixed')", name="kind_known"),
        CheckConstraint("(kind = 'percent' AND value BETWEEN 1 AND 10000) OR (kind = 'fixed' AND value > 0)",
                        name="value_fits_kind"),
        CheckConstraint("min_bill_minor >= 0 AND validity_days > 0", name="limits_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    value: Mapped[int] = mapped_column(Integer)  # basis points for percent, minor units for fixed
    categories: Mapped[str] = mapped_column(String(500), default="accessory")  # comma-separated codes
    min_bill_minor: Mapped[int] = mapped_column(Integer, default=0)
    validity_days: Mapped[int] = mapped_column(Integer, default=30)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Coupon(db.Model):
    """A personal coupon (one customer, used once) or a promo code (anyone, up to ``usage_limit``
    uses within its dates). ``used_count`` grows by a conditional UPDATE, so concurrent checkouts
    cannot use it more often than allowed."""

    __tablename__ = "loyalty_coupon"
    __table_args__ = (
        CheckConstraint("kind IN ('personal', 'promo')", name="kind_known"),
        CheckConstraint("used_count >= 0 AND used_count <= usage_limit", name="used_within_limit"),
        CheckConstraint("kind = 'promo' OR customer_id IS NOT NULL", name="personal_has_customer"),
        # One coupon per template and cause (e.g. per paid repair), however often the cause is replayed.
        UniqueConstraint("template_id", "issued_for", name="one_per_cause"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    template_id: Mapped[int] = mapped_column(ForeignKey("loyalty_coupon_template.id"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers_customer.id", ondelete="CASCADE"),
                                                    index=True)
    usage_limit: Mapped[int] = mapped_column(Integer, default=1)
    used_count: Mapped[int] = mapped_column(Integer, default=0)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime())
    issued_for: Mapped[str | None] = mapped_column(String(64))  # "sale:12" for a coupon after a repair
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    template: Mapped[CouponTemplate] = relationship(lazy="raise")


class CouponUse(db.Model):
    __tablename__ = "loyalty_coupon_use"
    __table_args__ = (UniqueConstraint("coupon_id", "reference", name="once_per_sale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    coupon_id: Mapped[int] = mapped_column(ForeignKey("loyalty_coupon.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers_customer.id", ondelete="SET NULL"))
    reference: Mapped[str] = mapped_column(String(64))
    amount_minor: Mapped[int] = mapped_column(Integer)
    used_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
