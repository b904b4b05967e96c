"""The dashboard's series: revenue (members and non-members), points issued / redeemed / expired and new members
per shop day, week or month of a range. SQL GROUP BY only: one statement per series, whatever the range.

A bucket is [a local midnight, the next bucket's local midnight) as UTC instants, worked out here with the
shop's time zone (so a week or a month over a clock change is right), and each moment is turned into its
bucket's number in SQL by a balanced CASE over those UTC bounds: the same on SQLite and PostgreSQL, and a
handful of comparisons per row. Buckets are clipped to the range: the first week starts on the range's first
day, the last month ends on its last day. Definitions in docs/reports.md."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, literal_column, select, union_all
from sqlalchemy.orm import Session

from crm.loyalty.models import Account, LedgerEntry
from crm.reports.loyalty import ISSUED, ledger_cause
from crm.sales.models import Refund, Sale, SaleStatus
from crm.shop_time import day_bounds_utc

DAYS_BY_DAY = 45  # a range of up to this many days is drawn per day
DAYS_BY_WEEK = 200  # then per week (Monday to Sunday); longer ranges per month


def granularity(first: date, last: date) -> str:
    days = (last - first).days + 1
    return "day" if days <= DAYS_BY_DAY else "week" if days <= DAYS_BY_WEEK else "month"


def _next_start(day: date, unit: str) -> date:
    if unit == "day":
        return day + timedelta(days=1)
    if unit == "week":
        return day + timedelta(days=7 - day.weekday())
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def bucket_days(first: date, last: date, unit: str) -> list[date]:
    """The first day of each bucket from ``first`` to ``last`` (the first one is ``first`` itself)."""
    days = [first]
    while (following := _next_start(days[-1], unit)) <= last:
        days.append(following)
    return days


@dataclass
class Buckets:
    unit: str  # day, week or month
    days: list[date]  # each bucket's first day
    bounds: list[datetime]  # len(days) + 1 UTC instants: bucket i is [bounds[i], bounds[i + 1])

    @property
    def labels(self) -> list[str]:
        if self.unit == "month":
            return [day.strftime("%Y-%m") for day in self.days]
        return [day.isoformat() for day in self.days]

    def number(self, moment):
        """A SQL expression: the bucket of ``moment`` (which the caller keeps inside the range)."""
        return _tree(moment, self.bounds, 0, len(self.days))


def _tree(moment, bounds, low: int, high: int):
    if high - low <= 1:
        return literal_column(str(int(low)))
    middle = (low + high) // 2
    return case((moment < bounds[middle], _tree(moment, bounds, low, middle)),
                else_=_tree(moment, bounds, middle, high))


def buckets(first: date, last: date, tz: ZoneInfo) -> Buckets:
    unit = granularity(first, last)
    days = bucket_days(first, last, unit)
    bounds = [day_bounds_utc(day, tz)[0] for day in days] + [day_bounds_utc(last, tz)[1]]
    return Buckets(unit, days, bounds)


@dataclass
class Series:
    unit: str
    labels: list[str]
    revenue_members: list[int] = field(default_factory=list)  # net of refunds, minor units
    revenue_others: list[int] = field(default_factory=list)
    issued: list[int] = field(default_factory=list)
    redeemed: list[int] = field(default_factory=list)
    expired: list[int] = field(default_factory=list)
    new_members: list[int] = field(default_factory=list)


def _revenue(session: Session, result: Series, b: Buckets, start: datetime, end: datetime) -> None:
    # A member's sale is one whose customer enrolled before the end (as in crm.reports.loyalty): an outer join
    # on the account (one per customer), which PostgreSQL hashes, rather than an EXISTS per sale.
    account = and_(Account.customer_id == Sale.customer_id, Account.enrolled_at < end)
    member = Account.customer_id.is_not(None).label("member")
    # The range alone filters (the paid_at index); the status is tested in the amount (see crm.reports.roi).
    sales = (select(b.number(Sale.paid_at).label("bucket"), member,
                    case((Sale.status == SaleStatus.PAID, Sale.total_minor), else_=0).label("amount"))
             .outerjoin(Account, account).where(Sale.paid_at >= start, Sale.paid_at < end))
    refunds = (select(b.number(Refund.created_at).label("bucket"), member, (-Refund.amount_minor).label("amount"))
               .join(Sale, Sale.id == Refund.sale_id).outerjoin(Account, account)
               .where(Refund.created_at >= start, Refund.created_at < end))
    both = union_all(sales, refunds).subquery()
    for bucket, is_member, amount in session.execute(
            select(both.c.bucket, both.c.member, func.sum(both.c.amount)).group_by(both.c.bucket, both.c.member)):
        (result.revenue_members if is_member else result.revenue_others)[int(bucket)] += int(amount or 0)


def _points(session: Session, result: Series, b: Buckets, start: datetime, end: datetime) -> None:
    rows = (select(b.number(LedgerEntry.created_at).label("bucket"), ledger_cause().label("cause"),
                   LedgerEntry.points.label("points"))
            .where(LedgerEntry.created_at >= start, LedgerEntry.created_at < end).subquery())
    for bucket, cause, points in session.execute(
            select(rows.c.bucket, rows.c.cause, func.sum(rows.c.points)).group_by(rows.c.bucket, rows.c.cause)):
        points = int(points or 0)
        if cause in ISSUED:
            result.issued[int(bucket)] += points
        elif cause == "redeem":
            result.redeemed[int(bucket)] -= points
        elif cause == "expire":
            result.expired[int(bucket)] -= points


def _members(session: Session, result: Series, b: Buckets, start: datetime, end: datetime) -> None:
    rows = (select(b.number(Account.enrolled_at).label("bucket"))
            .where(and_(Account.enrolled_at >= start, Account.enrolled_at < end)).subquery())
    for bucket, members in session.execute(select(rows.c.bucket, func.count()).group_by(rows.c.bucket)):
        result.new_members[int(bucket)] = int(members)


def series(session: Session, first: date, last: date, tz: ZoneInfo) -> Series:
    """Every series of the dashboard for the shop days ``first`` .. ``last`` (three statements)."""
    b = buckets(first, last, tz)
    result = Series(b.unit, b.labels)
    size = len(b.days)
    for name in ("revenue_members", "revenue_others", "issued", "redeemed", "expired", "new_members"):
        setattr(result, name, [0] * size)
    start, end = b.bounds[0], b.bounds[-1]
    _revenue(session, result, b, start, end)
    _points(session, result, b, start, end)
    _members(session, result, b, start, end)
    return result
