"""Staff performance (issue 14; PRODUCT.md "Staff motivation"): per technician and per front-desk member, over a
range. Every figure is an SQL aggregate grouped by staff member; a page runs the same statements whatever the
range or the number of staff. Definitions in docs/reports.md ("Staff performance").

Durations are wall time (received -> first "ready", in seconds); the median and the 90th percentile are
interpolated between the two nearest durations (as PostgreSQL's percentile_cont) by ranking each technician's
durations with window functions, which SQLite and PostgreSQL both run, so no duration leaves the database."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session, aliased

from crm.auth.models import Role, StaffUser
from crm.feedback.models import Feedback
from crm.loyalty.models import Account
from crm.orders.models import OrderStatusChange, RepairOrder
from crm.orders.status import Status
from crm.sales.models import Refund, RefundLine, Sale, SaleLine, SaleStatus

MEDIAN, P90 = 5, 9  # percentiles in tenths


@dataclass
class TechnicianFigures:
    staff_id: int
    name: str
    commission_bp: int = 0
    finished: int = 0
    median_ds: int | None = None  # the median turnaround in tenths of a second (exact: an interpolation x 10)
    p90_ds: int | None = None
    with_due_date: int = 0
    on_time: int = 0
    warranty_returns: int = 0
    labour_paid_minor: int = 0
    labour_refunded_minor: int = 0
    ratings: int = 0
    rating_sum: int = 0

    @property
    def labour_minor(self) -> int:
        return self.labour_paid_minor - self.labour_refunded_minor


@dataclass
class DeskFigures:
    staff_id: int
    name: str
    sales: int = 0
    revenue_minor: int = 0
    points_redeemed: int = 0
    coupons: int = 0
    refunds: int = 0
    refunded_minor: int = 0
    enrolled: int = 0  # members they enrolled in the range


def seconds_between(dialect: str, later, earlier):
    """Whole seconds from ``earlier`` to ``later`` (two UTC timestamp columns) on this database."""
    if dialect == "postgresql":
        return cast(func.round(func.extract("epoch", later - earlier)), Integer)
    return cast(func.round((func.julianday(later) - func.julianday(earlier)) * 86400), Integer)


def utc_offsets(tz: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime | None, int]]:
    """The zone's UTC offset (seconds) over [start, end) as (until, offset) pieces, the last one until None."""
    pieces: list[tuple[datetime | None, int]] = []
    moment = start
    offset = int(start.astimezone(tz).utcoffset().total_seconds())
    while moment < end:
        step = min(moment + timedelta(days=1), end)
        if int(step.astimezone(tz).utcoffset().total_seconds()) != offset:
            low, high = int(moment.timestamp()), int(step.timestamp())
            while high - low > 1:  # the first second with the new offset
                mid = (low + high) // 2
                same = int(datetime.fromtimestamp(mid, UTC).astimezone(tz).utcoffset().total_seconds()) == offset
                low, high = (mid, high) if same else (low, mid)
            change = datetime.fromtimestamp(high, UTC)
            pieces.append((change, offset))
            offset = int(change.astimezone(tz).utcoffset().total_seconds())
        moment = step
    pieces.append((None, offset))
    return pieces


def local_day(dialect: str, moment, tz: ZoneInfo, start: datetime, end: datetime):
    """The shop's day of ``moment`` (a UTC timestamp between ``start`` and ``end``), comparable with a Date column.
    PostgreSQL converts with the zone itself; SQLite adds the offset of the piece of the range the moment is in."""
    if dialect == "postgresql":
        return cast(func.timezone(tz.key, moment), Date)
    pieces = utc_offsets(tz, start, end)
    modifier = case(*[(moment < until, f"{offset:+d} seconds") for until, offset in pieces[:-1]],
                    else_=f"{pieces[-1][1]:+d} seconds") if len(pieces) > 1 else f"{pieces[0][1]:+d} seconds"
    return func.date(moment, modifier)


def _percentile(rows, tenths: int):
    """percentile_cont(tenths / 10) x 10 of ``rows.c.d`` per group, from each row's rank ``rn`` of ``n``."""
    position = (rows.c.n - 1) * tenths
    low, weight = position // 10, position % 10
    return func.sum(case((rows.c.rn == low + 1, rows.c.d * (10 - weight)),
                         (rows.c.rn == low + 2, rows.c.d * weight), else_=0))


def _finished(session: Session, start: datetime, end: datetime, tz: ZoneInfo, only: int | None) -> dict[int, tuple]:
    """Per technician: repairs that first reached "ready" in the range, those with a due date and those ready by
    it (the shop's day), the median and 90th percentile of received -> ready. One statement."""
    dialect = session.get_bind().dialect.name
    change, before = OrderStatusChange, aliased(OrderStatusChange)
    ready_before = (select(before.id).where(before.order_id == change.order_id,
                                            before.to_status == Status.READY.value, before.changed_at < start))
    ready = (select(change.order_id.label("order_id"), func.min(change.changed_at).label("ready_at"))
             .where(change.to_status == Status.READY.value, change.changed_at >= start, change.changed_at < end,
                    ~ready_before.exists())
             .group_by(change.order_id).subquery())
    duration = seconds_between(dialect, ready.c.ready_at, RepairOrder.created_at)
    on_time = case((RepairOrder.due_date.is_(None), None),
                   (local_day(dialect, ready.c.ready_at, tz, start, end) <= RepairOrder.due_date, 1), else_=0)
    tech = RepairOrder.technician_id
    rows = (select(tech.label("staff_id"), duration.label("d"), on_time.label("on_time"),
                   func.row_number().over(partition_by=tech, order_by=duration).label("rn"),
                   func.count().over(partition_by=tech).label("n"))
            .join(ready, ready.c.order_id == RepairOrder.id)
            .where(tech.is_not(None), *([tech == only] if only is not None else [])).subquery())
    query = (select(rows.c.staff_id, func.count(), func.count(rows.c.on_time),
                    func.coalesce(func.sum(rows.c.on_time), 0), _percentile(rows, MEDIAN), _percentile(rows, P90))
             .group_by(rows.c.staff_id))
    return {row[0]: tuple(int(v) for v in row[1:]) for row in session.execute(query)}


def _by_staff(session: Session, query) -> dict[int, tuple]:
    return {row[0]: tuple(int(v or 0) for v in row[1:]) for row in session.execute(query) if row[0] is not None}


def _labour(session: Session, start: datetime, end: datetime, only: int | None) -> tuple[dict, dict]:
    """Per technician of the repair: labour lines of sales paid in the range (what the customer paid for them),
    and labour refunded by refunds made in the range."""
    tech = RepairOrder.technician_id
    mine = [tech == only] if only is not None else []
    paid = (select(tech, func.sum(SaleLine.total_minor)).join(Sale, SaleLine.sale_id == Sale.id)
            .join(RepairOrder, Sale.repair_order_id == RepairOrder.id)
            .where(Sale.status == SaleStatus.PAID.value, Sale.paid_at >= start, Sale.paid_at < end,
                   SaleLine.kind == "labour", *mine).group_by(tech))
    refunded = (select(tech, func.sum(RefundLine.amount_minor)).join(Refund, RefundLine.refund_id == Refund.id)
                .join(SaleLine, RefundLine.sale_line_id == SaleLine.id).join(Sale, SaleLine.sale_id == Sale.id)
                .join(RepairOrder, Sale.repair_order_id == RepairOrder.id)
                .where(Refund.created_at >= start, Refund.created_at < end, SaleLine.kind == "labour", *mine)
                .group_by(tech))
    return _by_staff(session, paid), _by_staff(session, refunded)


def _warranty_returns(session: Session, start: datetime, end: datetime, only: int | None) -> dict:
    """Per technician of the earlier order: orders taken in during the range as its warranty return."""
    earlier = aliased(RepairOrder)
    query = (select(earlier.technician_id, func.count()).select_from(RepairOrder)
             .join(earlier, RepairOrder.warranty_of_id == earlier.id)
             .where(RepairOrder.created_at >= start, RepairOrder.created_at < end,
                    *([earlier.technician_id == only] if only is not None else []))
             .group_by(earlier.technician_id))
    return _by_staff(session, query)


def _ratings(session: Session, start: datetime, end: datetime, only: int | None) -> dict:
    """Per technician of the order: ratings first given in the range, their count and sum."""
    tech = RepairOrder.technician_id
    query = (select(tech, func.count(Feedback.id), func.sum(Feedback.rating))
             .join(RepairOrder, Feedback.order_id == RepairOrder.id)
             .where(Feedback.created_at >= start, Feedback.created_at < end,
                    *([tech == only] if only is not None else [])).group_by(tech))
    return _by_staff(session, query)


def technician_figures(session: Session, start: datetime, end: datetime, tz: ZoneInfo, *,
                       only: int | None = None) -> list[TechnicianFigures]:
    """Every active technician and anyone else with a figure in the range, by name; ``only``: that one person."""
    finished = _finished(session, start, end, tz, only)
    paid, refunded = _labour(session, start, end, only)
    returns = _warranty_returns(session, start, end, only)
    ratings = _ratings(session, start, end, only)
    ids = set(finished) | set(paid) | set(refunded) | set(returns) | set(ratings)
    who = (StaffUser.id == only if only is not None else
           or_(StaffUser.id.in_(ids), and_(StaffUser.role == Role.TECHNICIAN.value, StaffUser.is_active_account)))
    result = []
    for user in session.scalars(select(StaffUser).where(who, StaffUser.is_api_actor.is_(False))
                                .order_by(StaffUser.full_name, StaffUser.id)):
        row = TechnicianFigures(user.id, user.full_name, commission_bp=user.commission_basis_points)
        if user.id in finished:
            row.finished, row.with_due_date, row.on_time, row.median_ds, row.p90_ds = finished[user.id]
        row.labour_paid_minor = paid.get(user.id, (0,))[0]
        row.labour_refunded_minor = refunded.get(user.id, (0,))[0]
        row.warranty_returns = returns.get(user.id, (0,))[0]
        row.ratings, row.rating_sum = ratings.get(user.id, (0, 0))
        result.append(row)
    return result


def desk_figures(session: Session, start: datetime, end: datetime) -> list[DeskFigures]:
    """Per staff member who took a checkout (``paid_by``) or made a refund in the range, and every active
    front-desk member: sales paid, their total, points redeemed and coupons on them, refunds made and their amount,
    members they enrolled."""
    sales = _by_staff(session, select(Sale.paid_by_id, func.count(), func.sum(Sale.total_minor),
                                      func.sum(Sale.points_redeemed), func.count(Sale.coupon_code))
                      .where(Sale.status == SaleStatus.PAID.value, Sale.paid_at >= start, Sale.paid_at < end)
                      .group_by(Sale.paid_by_id))
    refunds = _by_staff(session, select(Refund.created_by_id, func.count(), func.sum(Refund.amount_minor))
                        .where(Refund.created_at >= start, Refund.created_at < end).group_by(Refund.created_by_id))
    enrolled = _by_staff(session, select(Account.enrolled_by_id, func.count())
                         .where(Account.enrolled_at >= start, Account.enrolled_at < end)
                         .group_by(Account.enrolled_by_id))
    who = or_(StaffUser.id.in_(set(sales) | set(refunds) | set(enrolled)),
              and_(StaffUser.role == Role.FRONT_DESK.value, StaffUser.is_active_account))
    result = []  # the API tokens' actors (crm.api.tokens) are no staff to rate
    for user in session.scalars(select(StaffUser).where(who, StaffUser.is_api_actor.is_(False))
                                .order_by(StaffUser.full_name, StaffUser.id)):
        row = DeskFigures(user.id, user.full_name)
        row.sales, row.revenue_minor, row.points_redeemed, row.coupons = sales.get(user.id, (0, 0, 0, 0))
        row.refunds, row.refunded_minor = refunds.get(user.id, (0, 0))
        row.enrolled = enrolled.get(user.id, (0,))[0]
        result.append(row)
    return result
