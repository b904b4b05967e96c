"""The end-of-day report: what the shop took and paid back on one day, by payment method and by staff member.

Every figure is a SQL aggregate (GROUP BY in the database), so the report costs the same four statements
whether the day had one sale or a thousand. A day is [local midnight, next local midnight) in the shop's
time zone, converted to UTC: a day when the clocks change has 23 or 25 hours, and a sale at 23:59 local
time belongs to that day even when it is already the next day in UTC."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, literal_column, select, true, union_all
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
    window = {"start": start, "end": end}
    return EndOfDay(
        day=day, start=start, end=end,
        methods=_by_method(session, window, methods),
        staff=_by_staff(session, window),
        refunds=tuple(RefundRow(*row) for row in session.execute(_REFUNDS, window)),
        totals=Totals(*(int(value) for value in session.execute(_TOTALS, window).one())),
    )


# The report's four statements are built once, for the day's bounds as parameters: building these unions and their
# cache keys cost more than running them (the page took 5 ms on SQLite, its statements a fraction of one).
_START, _END = bindparam("start"), bindparam("end")
_PAYMENTS_OF = (Payment.taken_at >= _START, Payment.taken_at < _END)
_REFUNDS_OF = (Refund.created_at >= _START, Refund.created_at < _END)
# paid_at is set only by checkout, so the range alone means "paid that day"; adding the status made SQLite pick the
# status index and scan every paid sale instead of the day's paid_at range.
_SALES_OF = (Sale.paid_at >= _START, Sale.paid_at < _END)


def _by_method_statement():
    parts = union_all(
        select(Payment.method.label("method"), func.count().label("payments"),
               func.sum(Payment.amount_minor).label("taken"), ZERO.label("refunded"))
        .where(*_PAYMENTS_OF).group_by(Payment.method),
        select(Refund.method, ZERO, ZERO, func.sum(Refund.amount_minor))
        .where(*_REFUNDS_OF).group_by(Refund.method),
    ).subquery()
    return (select(parts.c.method, func.sum(parts.c.payments), func.sum(parts.c.taken), func.sum(parts.c.refunded))
            .group_by(parts.c.method))


def _by_staff_statement():
    parts = union_all(
        select(Sale.paid_by_id.label("staff_id"), func.count().label("sales"), ZERO.label("taken"),
               ZERO.label("refunded"))
        .where(*_SALES_OF).group_by(Sale.paid_by_id),
        select(Payment.taken_by_id, ZERO, func.sum(Payment.amount_minor), ZERO)
        .where(*_PAYMENTS_OF).group_by(Payment.taken_by_id),
        select(Refund.created_by_id, ZERO, ZERO, func.sum(Refund.amount_minor))
        .where(*_REFUNDS_OF).group_by(Refund.created_by_id),
    ).subquery()
    return (select(parts.c.staff_id, StaffUser.full_name, func.sum(parts.c.sales), func.sum(parts.c.taken),
                   func.sum(parts.c.refunded))
            .outerjoin(StaffUser, StaffUser.id == parts.c.staff_id)
            .group_by(parts.c.staff_id, StaffUser.full_name)
            .order_by(parts.c.staff_id.is_(None), StaffUser.full_name, parts.c.staff_id))


def _totals_statement():
    sales = select(func.count().label("n")).select_from(Sale).where(*_SALES_OF).subquery()
    payments = select(
        func.count().label("n"), func.coalesce(func.sum(Payment.amount_minor), 0).label("taken"),
        func.coalesce(func.sum(Payment.tendered_minor - Payment.amount_minor), 0).label("change"),
    ).select_from(Payment).where(*_PAYMENTS_OF).subquery()
    refunds = select(func.count().label("n"), func.coalesce(func.sum(Refund.amount_minor), 0).label("refunded")
                     ).select_from(Refund).where(*_REFUNDS_OF).subquery()
    return (select(sales.c.n, payments.c.n, refunds.c.n, payments.c.taken, refunds.c.refunded, payments.c.change)
            .select_from(sales.join(payments, true()).join(refunds, true())))


_BY_METHOD = _by_method_statement()
_BY_STAFF = _by_staff_statement()
_REFUNDS = (select(Refund.number, Refund.sale_id, Sale.number, Refund.reason, Refund.method, Refund.amount_minor,
                   StaffUser.full_name, Refund.created_at)
            .join(Sale, Sale.id == Refund.sale_id)
            .outerjoin(StaffUser, StaffUser.id == Refund.created_by_id)
            .where(*_REFUNDS_OF)
            .order_by(Refund.created_at, Refund.id))
_TOTALS = _totals_statement()


def _by_method(session: Session, window: dict, methods: Sequence[str]) -> tuple[MethodRow, ...]:
    found = {method: MethodRow(method, int(payments), int(taken), int(refunded))
             for method, payments, taken, refunded in session.execute(_BY_METHOD, window)}
    order = list(dict.fromkeys(methods)) + sorted(found.keys() - set(methods))
    return tuple(found.get(method) or MethodRow(method, 0, 0, 0) for method in order)


def _by_staff(session: Session, window: dict) -> tuple[StaffRow, ...]:
    return tuple(StaffRow(staff_id, name, int(sales), int(taken), int(refunded))
                 for staff_id, name, sales, taken, refunded in session.execute(_BY_STAFF, window))
