"""Read-side queries for the order pages; each loads what its page shows in a fixed number of queries."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from crm.customers.models import Customer
from crm.customers.service import search_pattern
from crm.loyalty.models import Account, Tier
from crm.numbers import whole_number
from crm.orders.models import OrderStatusChange, QuoteDecision, RepairOrder
from crm.orders.status import Status
from crm.shop_time import day_bounds_utc

QUEUE_STATUSES = (Status.RECEIVED, Status.DIAGNOSING, Status.AWAITING_APPROVAL, Status.AWAITING_PARTS,
                  Status.IN_REPAIR)


def _with_people(stmt):
    return stmt.options(joinedload(RepairOrder.customer), joinedload(RepairOrder.technician))


def _page(session: Session, stmt, page: int, per_page: int):
    rows = list(session.scalars(stmt.offset((max(page, 1) - 1) * per_page).limit(per_page + 1)).unique())
    return rows[:per_page], len(rows) > per_page


def technician_queue(session: Session, technician_id: int, *, page: int = 1, per_page: int = 25):
    """Open bench work for one technician: their orders and unassigned ones, most urgent first, then
    customers whose loyalty tier has queue priority, then own orders before unassigned, then earliest
    due date (no date last), then oldest."""
    vip = case((Tier.queue_priority.is_(True), 0), else_=1)
    stmt = (
        select(RepairOrder)
        .outerjoin(Account, Account.customer_id == RepairOrder.customer_id)
        .outerjoin(Tier, Tier.id == Account.tier_id)
        .where(RepairOrder.status.in_([s.value for s in QUEUE_STATUSES]),
               or_(RepairOrder.technician_id == technician_id, RepairOrder.technician_id.is_(None)))
        .order_by(RepairOrder.priority.desc(), vip,
                  case((RepairOrder.technician_id == technician_id, 0), else_=1),
                  RepairOrder.due_date.is_(None), RepairOrder.due_date, RepairOrder.created_at)
    )
    return _page(session, _with_people(stmt), page, per_page)


def priority_customers(session: Session, customer_ids) -> set[int]:
    """Which of these customers are in a tier with queue priority (one query for a whole page)."""
    ids = set(customer_ids)
    if not ids:
        return set()
    return set(session.scalars(select(Account.customer_id).join(Tier, Tier.id == Account.tier_id)
                               .where(Account.customer_id.in_(ids), Tier.queue_priority.is_(True))))


def quote_decisions(session: Session, orders) -> dict[int, str]:
    """For a page of orders, the decision ("approved" / "declined") on each order's current quote version,
    in one query; orders without one are absent."""
    ids = {order.id for order in orders}
    if not ids:
        return {}
    rows = session.execute(select(QuoteDecision.order_id, QuoteDecision.decision)
                           .join(RepairOrder, (RepairOrder.id == QuoteDecision.order_id)
                                 & (RepairOrder.quote_version == QuoteDecision.quote_version))
                           .where(QuoteDecision.order_id.in_(ids)))
    return {order_id: decision for order_id, decision in rows}


@dataclass
class OrderFilters:
    status: str = ""
    technician: str = ""  # a staff id, "none" for unassigned, or "" for any
    date_from: date | None = None
    date_to: date | None = None
    text: str = ""


def _order_with_number(session: Session, text: str) -> int | None:
    number = text.strip().upper()
    if not number or len(number) > 32 or not number[-1].isdigit():
        return None
    return session.scalar(select(RepairOrder.id).where(RepairOrder.number == number))


def list_orders(session: Session, filters: OrderFilters, *, tz, page: int = 1, per_page: int = 25):
    """The desk's order list, newest first; dates are shop-local days of intake."""
    stmt = select(RepairOrder)
    if filters.status == "open":
        stmt = stmt.where(RepairOrder.status.in_([s.value for s in QUEUE_STATUSES] + [Status.READY.value]))
    elif filters.status:
        stmt = stmt.where(RepairOrder.status == filters.status)
    if filters.technician == "none":
        stmt = stmt.where(RepairOrder.technician_id.is_(None))
    elif (technician_id := whole_number(filters.technician)) is not None:
        stmt = stmt.where(RepairOrder.technician_id == technician_id)
    if filters.date_from:
        stmt = stmt.where(RepairOrder.created_at >= day_bounds_utc(filters.date_from, tz)[0])
    if filters.date_to:
        stmt = stmt.where(RepairOrder.created_at < day_bounds_utc(filters.date_to, tz)[1])
    pattern = search_pattern(filters.text)
    exact = _order_with_number(session, filters.text)
    if exact is not None:
        # The desk typed a whole order number: answer from the unique index, not a scan.
        stmt = stmt.where(RepairOrder.id == exact)
    elif pattern:
        matching_customers = select(Customer.id).where(Customer.search_text.like(pattern, escape="\\"))
        stmt = stmt.where(or_(RepairOrder.search_text.like(pattern.casefold(), escape="\\"),
                              RepairOrder.customer_id.in_(matching_customers)))
    stmt = stmt.order_by(RepairOrder.id.desc())
    return _page(session, _with_people(stmt), page, per_page)


def orders_of_customer(session: Session, customer_id: int) -> list[RepairOrder]:
    return list(session.scalars(
        select(RepairOrder).options(joinedload(RepairOrder.technician), selectinload(RepairOrder.lines))
        .where(RepairOrder.customer_id == customer_id).order_by(RepairOrder.id.desc())
    ).unique())


def order_detail(session: Session, order_id: int) -> RepairOrder | None:
    return session.scalar(
        select(RepairOrder).where(RepairOrder.id == order_id)
        .options(joinedload(RepairOrder.customer), joinedload(RepairOrder.technician),
                 joinedload(RepairOrder.created_by), joinedload(RepairOrder.warranty_of),
                 selectinload(RepairOrder.lines),
                 selectinload(RepairOrder.history).joinedload(OrderStatusChange.changed_by))
    )
