"""The end-of-day report: what the shop took and paid back on one day, by payment method and by staff member.

Every figure is a SQL aggregate (GROUP BY in the database), so the report costs the same four statements
whether the day had one sale or a thousand. A day is [local midnight, next local midnight) in the shop's
time zone, converted to UTC: a day when the clocks change has 23 or 25 hours, and a sale at 23:59 local
time belongs to that day even when it is already the next day in UTC."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, literal_column, select, true, union_all
from sqlalchemy.orm import Session

from crm.auth.models import StaffUser
from crm.sales.models import Payment, Refund, Sale
from crm.shop_time import day_bounds_utc

ZERO = literal_column("0")


@dataclass(frozen=True)
class MethodRow:
    """One payment method: payments taken with it (``amount_minor``, i.e. net of cash change) and refunds
    paid back with it."""

    method: str
    payments: int
    taken_minor: int
    refunded_minor: int

    @property
    def net_minor(self) -> int:
        return self.taken_minor - self.refunded_minor


@dataclass(frozen=True)
class StaffRow:
    """One staff member: the sales they took payment for, what those payments came to, what they refunded."""

    staff_id: int | None
    name: str | None  # None when the account behind old rows is unknown
    sales: int
    taken_minor: int
    refunded_minor: int

    @property
    def net_minor(self) -> int:
        return self.taken_minor - self.refunded_minor


@dataclass(frozen=True)
class RefundRow:
    number: str
    sale_id: int
    sale_number: str | None
    reason: str
    method: str
    amount_minor: int
    staff_name: str | None
    created_at: datetime


@dataclass(frozen=True)
class Totals:
    sales: int
    payments: int
    refunds: int
    taken_minor: int
    refunded_minor: int
    change_minor: int  # cash handed back to customers: for counting the drawer, not part of the takings

    @property
    def net_minor(self) -> int:
        return self.taken_minor - self.refunded_minor


@dataclass(frozen=True)
class EndOfDay:
    day: date
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive
    methods: tuple[MethodRow, ...]
    staff: tuple[StaffRow, ...]
    refunds: tuple[RefundRow, ...]
    totals: Totals

    @property
    def empty(self) -> bool:
        return not self.totals.payments and not self.totals.refunds and not self.totals.sales


def end_of_day(session: Session, day: date, tz: ZoneInfo, *, methods: Sequence[str] = ()) -> EndOfDay:
    """Takings of one shop-local day. Payments count on the day they were taken, refunds on the day they
    were paid back (whatever day the sale was), sales on the day they were paid. ``methods`` (the shop's
    payment methods) are listed first, in that order, even when nothing was taken with them; any other
    method found in the day's rows follows, alphabetically."""
    start, end = day_bounds_utc(day, tz)
    return EndOfDay(
        day=day, start=start, end=end,
        methods=_by_method(session, start, end, methods),
        staff=_by_staff(session, start, end),
        refunds=_refunds(session, start, end),
        totals=_totals(session, start, end),
    )


def _payments_of(start: datetime, end: datetime):
    return (Payment.taken_at >= start, Payment.taken_at < end)


def _refunds_of(start: datetime, end: datetime):
    return (Refund.created_at >= start, Refund.created_at < end)


def _sales_of(start: datetime, end: datetime):
    # paid_at is set only by checkout, so the range alone means "paid that day"; adding the status
    # made SQLite pick the status index and scan every paid sale instead of the day's paid_at range.
    return (Sale.paid_at >= start, Sale.paid_at < end)


def _by_method(session: Session, start: datetime, end: datetime, methods: Sequence[str]) -> tuple[MethodRow, ...]:
    parts = union_all(
        select(Payment.method.label("method"), func.count().label("payments"),
               func.sum(Payment.amount_minor).label("taken"), ZERO.label("refunded"))
        .where(*_payments_of(start, end)).group_by(Payment.method),
        select(Refund.method, ZERO, ZERO, func.sum(Refund.amount_minor))
        .where(*_refunds_of(start, end)).group_by(Refund.method),
    ).subquery()
    found = {
        method: MethodRow(method, int(payments), int(taken), int(refunded))
        for method, payments, taken, refunded in session.execute(
            select(parts.c.method, func.sum(parts.c.payments), func.sum(parts.c.taken), func.sum(parts.c.refunded))
            .group_by(parts.c.method))
    }
    order = list(dict.fromkeys(methods)) + sorted(found.keys() - set(methods))
    return tuple(found.get(method) or MethodRow(method, 0, 0, 0) for method in order)


def _by_staff(session: Session, start: datetime, end: datetime) -> tuple[StaffRow, ...]:
    parts = union_all(
        select(Sale.paid_by_id.label("staff_id"), func.count().label("sales"), ZERO.label("taken"),
               ZERO.label("refunded"))
        .where(*_sales_of(start, end)).group_by(Sale.paid_by_id),
        select(Payment.taken_by_id, ZERO, func.sum(Payment.amount_minor), ZERO)
        .where(*_payments_of(start, end)).group_by(Payment.taken_by_id),
        select(Refund.created_by_id, ZERO, ZERO, func.sum(Refund.amount_minor))
        .where(*_refunds_of(start, end)).group_by(Refund.created_by_id),
    ).subquery()
    rows = session.execute(
        select(parts.c.staff_id, StaffUser.full_name, func.sum(parts.c.sales), func.sum(parts.c.taken),
               func.sum(parts.c.refunded))
        .outerjoin(StaffUser, StaffUser.id == parts.c.staff_id)
        .group_by(parts.c.staff_id, StaffUser.full_name)
        .order_by(parts.c.staff_id.is_(None), StaffUser.full_name, parts.c.staff_id)
    )
    return tuple(StaffRow(staff_id, name, int(sales), int(taken), int(refunded))
                 for staff_id, name, sales, taken, refunded in rows)


def _refunds(session: Session, start: datetime, end: datetime) -> tuple[RefundRow, ...]:
    rows = session.execute(
        select(Refund.number, Refund.sale_id, Sale.number, Refund.reason, Refund.method, Refund.amount_minor,
               StaffUser.full_name, Refund.created_at)
        .join(Sale, Sale.id == Refund.sale_id)
        .outerjoin(StaffUser, StaffUser.id == Refund.created_by_id)
        .where(*_refunds_of(start, end))
        .order_by(Refund.created_at, Refund.id)
    )
    return tuple(RefundRow(*row) for row in rows)


def _totals(session: Session, start: datetime, end: datetime) -> Totals:
    sales = select(func.count().label("n")).select_from(Sale).where(*_sales_of(start, end)).subquery()
    payments = select(
        func.count().label("n"), func.coalesce(func.sum(Payment.amount_minor), 0).label("taken"),
        func.coalesce(func.sum(Payment.tendered_minor - Payment.amount_minor), 0).label("change"),
    ).select_from(Payment).where(*_payments_of(start, end)).subquery()
    refunds = select(func.count().label("n"), func.coalesce(func.sum(Refund.amount_minor), 0).label("refunded")
                     ).select_from(Refund).where(*_refunds_of(start, end)).subquery()
    row = session.execute(
        select(sales.c.n, payments.c.n, refunds.c.n, payments.c.taken, refunds.c.refunded, payments.c.change)
        .select_from(sales.join(payments, true()).join(refunds, true()))
    ).one()
    return Totals(*(int(value) for value in row))
