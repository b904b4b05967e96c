"""Read-side queries for the order pages; each loads what its page shows in a fixed number of queries."""

from dataclasses import dataclass
from datetime import date
from functools import cache

from sqlalchemy import Row, and_, bindparam, case, func, or_, select
from sqlalchemy.orm import Session, joinedload

from crm.auth.models import StaffUser
from crm.customers.models import Customer
from crm.customers.search import like_customer_ids, search_fragment
from crm.loading import attach
from crm.loyalty.models import Account, Tier
from crm.numbers import whole_number
from crm.orders.models import OrderStatusChange, QuoteDecision, RepairOrder, RepairOrderLine
from crm.orders.status import Status
from crm.search_index import (
    like_pattern,
    match_expression,
    matching_rowids,
    order_customer_text,
    plan_for_the_fragment,
    short_fragment_match,
    uses_fts,
    window_ids,
)
from crm.shop_time import day_bounds_utc

QUEUE_STATUSES = (Status.RECEIVED, Status.DIAGNOSING, Status.AWAITING_APPROVAL, Status.AWAITING_PARTS,
                  Status.IN_REPAIR)


# The decision ("approved" / "declined") on the order's current quote version, None without one: one index
# lookup per listed order (the pair is unique).
_QUOTE_DECISION = (select(QuoteDecision.decision)
                   .where(QuoteDecision.order_id == RepairOrder.id,
                          QuoteDecision.quote_version == RepairOrder.quote_version)
                   .correlate(RepairOrder).scalar_subquery())

# What a row of the order lists (orders/_table.html) shows: rows of these, not ORM orders with their customer and
# technician objects (loading 25 orders with two related objects each was a quarter of a list page).
LIST_COLUMNS = (RepairOrder.id, RepairOrder.number, RepairOrder.priority, RepairOrder.status, RepairOrder.due_date,
                RepairOrder.brand, RepairOrder.model, RepairOrder.customer_id, RepairOrder.technician_id,
                Customer.name.label("customer_name"), Customer.phone.label("customer_phone"),
                StaffUser.full_name.label("technician_name"), _QUOTE_DECISION.label("quote_decision"))


def _with_people(stmt, *extra):
    """``stmt`` (a select of orders with its filters, joins and order) reading the list's columns instead."""
    return (stmt.with_only_columns(*LIST_COLUMNS, *extra)
            .join(Customer, Customer.id == RepairOrder.customer_id)
            .outerjoin(StaffUser, StaffUser.id == RepairOrder.technician_id))


def _rows(session: Session, stmt, offset: int, per_page: int) -> tuple[list[Row], bool]:
    rows = list(session.execute(stmt.offset(offset).limit(per_page + 1)))
    return rows[:per_page], len(rows) > per_page


def _queue_statement():
    """The queue's page: the ids in queue order first, from the open orders and their tier's priority alone, then the
    people and the quote decision of those rows only (every open order's columns were built before the sort:
    25 ms at 3,000 open orders). The id ends the order so that pages never share or skip a row."""
    technician_id = bindparam("technician_id")
    # The tier's queue priority looked up per queued order (an index lookup each): an outer join to the loyalty
    # accounts made PostgreSQL hash every account to keep a few hundred orders (17 of 20 ms at 40k members).
    vip = func.coalesce(select(Tier.queue_priority).join(Account, Account.tier_id == Tier.id)
                        .where(Account.customer_id == RepairOrder.customer_id)
                        .correlate(RepairOrder).scalar_subquery(), False)

    def queue_order(vip_flag):
        return (RepairOrder.priority.desc(), vip_flag.desc(),
                case((RepairOrder.technician_id == technician_id, 0), else_=1),
                RepairOrder.due_date.is_(None), RepairOrder.due_date, RepairOrder.created_at, RepairOrder.id)

    page = (select(RepairOrder.id, vip.label("vip"))
            .where(RepairOrder.status.in_([s.value for s in QUEUE_STATUSES]),
                   or_(RepairOrder.technician_id == technician_id, RepairOrder.technician_id.is_(None)))
            .order_by(*queue_order(vip)).offset(bindparam("offset")).limit(bindparam("limit")).subquery("page"))
    rows = _with_people(select(RepairOrder).join(page, page.c.id == RepairOrder.id), page.c.vip.label("vip"))
    return rows.order_by(*queue_order(page.c.vip))


# Built once, like the other statements of every visit: building it and its cache key cost more than running it.
_QUEUE = _queue_statement()


def technician_queue(session: Session, technician_id: int, *, page: int = 1, per_page: int = 25):
    """Open bench work for one technician: their orders and unassigned ones, most urgent first, then
    customers whose loyalty tier has queue priority, then own orders before unassigned, then earliest
    due date (no date last), then oldest. Each row's ``vip`` says whether its customer's tier has queue priority."""
    rows = list(session.execute(_QUEUE, {"technician_id": technician_id, "offset": (max(page, 1) - 1) * per_page,
                                         "limit": per_page + 1}))
    return rows[:per_page], len(rows) > per_page


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


def _shape(filters: OrderFilters, tz) -> tuple[tuple, dict]:
    """Which filters are set (the statement's shape) and their values: a status ("open" or one), the technician
    ("none" or an id), the first and last day of intake."""
    values = {}
    status = "open" if filters.status == "open" else "one" if filters.status else ""
    if status == "one":
        values["status"] = filters.status
    technician = "none" if filters.technician == "none" else ""
    if not technician and (technician_id := whole_number(filters.technician)) is not None:
        technician, values["technician_id"] = "id", technician_id
    if filters.date_from:
        values["created_from"] = day_bounds_utc(filters.date_from, tz)[0]
    if filters.date_to:
        values["created_to"] = day_bounds_utc(filters.date_to, tz)[1]
    return (status, technician, bool(filters.date_from), bool(filters.date_to)), values


def _filtered(shape: tuple, values: dict | None = None):
    """The orders of a shape of filters, their values as parameters: given (``values``), or passed when the statement
    runs (a statement built once for the shape)."""
    def value(name):
        return bindparam(name) if values is None else bindparam(name, values[name])

    status, technician, date_from, date_to = shape
    stmt = select(RepairOrder)
    if status == "open":
        stmt = stmt.where(RepairOrder.status.in_([s.value for s in QUEUE_STATUSES] + [Status.READY.value]))
    elif status:
        stmt = stmt.where(RepairOrder.status == value("status"))
    if technician == "none":
        stmt = stmt.where(RepairOrder.technician_id.is_(None))
    elif technician:
        stmt = stmt.where(RepairOrder.technician_id == value("technician_id"))
    if date_from:
        stmt = stmt.where(RepairOrder.created_at >= value("created_from"))
    if date_to:
        stmt = stmt.where(RepairOrder.created_at < value("created_to"))
    return stmt


@cache  # 3 statuses x 3 technicians x 2 x 2 days x with or without a number: 72 at most
def _list_statement(shape: tuple, by_number: bool):
    """The list's page for a shape of filters (and an exact order number), built once: building it and its cache
    key cost more than running it. Parameters: the filters' values, ``order_id``, ``offset`` and ``limit``."""
    stmt = _filtered(shape)
    if by_number:
        stmt = stmt.where(RepairOrder.id == bindparam("order_id"))
    return _page_of(stmt, bindparam("offset"), bindparam("limit"))


def like_order_ids(fragment: str):
    """Orders whose own search_text or whose customer's contains the fragment: the plain LIKE (the reference
    the indexed paths are tested against)."""
    return select(RepairOrder.id).where(or_(RepairOrder.search_text.like(like_pattern(fragment), escape="\\"),
                                            RepairOrder.customer_id.in_(like_customer_ids(fragment))))


def _newest_matching(session: Session, stmt, fragment: str, offset: int, per_page: int):
    """The page from the newest WINDOW orders alone (crm.search_index.window_ids), when it is full there: a
    common fragment, answered by walking the primary key back a little way. None otherwise."""
    pattern = like_pattern(fragment)
    ids = stmt.with_only_columns(RepairOrder.id)
    matching = (ids.join(Customer, Customer.id == RepairOrder.customer_id)
                .where(or_(RepairOrder.search_text.like(pattern, escape="\\"),
                           Customer.search_text.like(pattern, escape="\\"))))
    found = window_ids(session, ids, RepairOrder.id, matching, offset + per_page + 1)
    if found is None:
        return None
    return _rows(session, _with_people(select(RepairOrder).where(RepairOrder.id.in_(found[offset:]))
                                       .order_by(RepairOrder.id.desc())), 0, per_page)


def _text_page_fts(session: Session, stmt, fragment: str, offset: int, per_page: int):
    """SQLite: the newest matching orders from the FTS5 index (crm.search_index), the other filters applied
    while it is read newest first; a one- or two-character fragment tries the newest orders first."""
    if len(fragment) < 3 and (page := _newest_matching(session, stmt, fragment, offset, per_page)) is not None:
        return page
    match = match_expression(session, "orders_repair_order_fts", fragment)
    if match is None:
        return [], False
    found = matching_rowids("orders_repair_order_fts", match)
    return _rows(session, _with_people(stmt.join(found, found.c.id == RepairOrder.id).order_by(found.c.id.desc())),
                 offset, per_page)


# PostgreSQL's copy of each order's customer search_text (migration 0022; kept by triggers, not in the model).
_CUSTOMER_TEXT = order_customer_text(RepairOrder.__table__)


def _text_page_trgm(session: Session, stmt, fragment: str, offset: int, per_page: int):
    """PostgreSQL: orders whose own text or whose customer's holds the fragment, both read from the order row (the
    customer's is copied there), newest first: a BitmapOr of the two trigram indexes for a rare fragment, the
    primary key backwards for a common one, without a join either way (a UNION with the customers' index joined
    every order of every matching customer, or looked each customer up along the newest orders: 10-25 ms)."""
    plan_for_the_fragment(session)
    pattern = like_pattern(fragment)
    matches = or_(RepairOrder.search_text.like(pattern, escape="\\"), _CUSTOMER_TEXT.like(pattern, escape="\\"))
    if len(fragment) < 3:  # pg_trgm cannot index it: a BitmapOr of the two indexes of 0023 instead
        matches = and_(matches, or_(short_fragment_match(RepairOrder.search_text, fragment),
                                    short_fragment_match(_CUSTOMER_TEXT, fragment)))
    return _newest_of(session, stmt.where(matches), offset, per_page)


def list_orders(session: Session, filters: OrderFilters, *, tz, page: int = 1, per_page: int = 25):
    """The desk's order list, newest first; dates are shop-local days of intake."""
    shape, values = _shape(filters, tz)
    offset = (max(page, 1) - 1) * per_page
    fragment = search_fragment(filters.text)
    exact = _order_with_number(session, filters.text)
    if exact is None and fragment:
        text_page = _text_page_fts if uses_fts(session) else _text_page_trgm
        return text_page(session, _filtered(shape, values), fragment, offset, per_page)
    if exact is not None:  # the desk typed a whole order number: answered from the unique index, not a scan
        values["order_id"] = exact
    rows = list(session.execute(_list_statement(shape, exact is not None),
                                {**values, "offset": offset, "limit": per_page + 1}))
    return rows[:per_page], len(rows) > per_page


def _page_of(stmt, offset, limit):
    """The page's ids first (from the index alone), then those orders with their customer and technician: an
    open-status list (or a text search's matches) sorted after the join would join every matching order's
    customer only to keep 25."""
    ids = stmt.with_only_columns(RepairOrder.id).order_by(RepairOrder.id.desc()).offset(offset).limit(limit)
    page = ids.subquery("page")
    return _with_people(select(RepairOrder).join(page, page.c.id == RepairOrder.id).order_by(RepairOrder.id.desc()))


def _newest_of(session: Session, stmt, offset: int, per_page: int):
    rows = list(session.execute(_page_of(stmt, offset, per_page + 1)))
    return rows[:per_page], len(rows) > per_page


# Built once (the customer's page runs it on every visit; building it costs more than SQLite running it). Rows
# of what the table shows, not entities: loading 20 orders with their technician through the ORM cost more than
# the rest of the page's statements together.
_OF_CUSTOMER = (select(RepairOrder.id, RepairOrder.number, RepairOrder.brand, RepairOrder.model, RepairOrder.problem,
                       RepairOrder.status, RepairOrder.created_at, StaffUser.full_name.label("technician_name"))
                .outerjoin(StaffUser, StaffUser.id == RepairOrder.technician_id)
                .where(RepairOrder.customer_id == bindparam("customer_id")).order_by(RepairOrder.id.desc()))


def orders_of_customer(session: Session, customer_id: int) -> list[Row]:
    """The customer's repairs, newest first, in one statement: rows of id, number, brand, model, problem, status,
    created_at and technician_name (None when nobody is assigned)."""
    return list(session.execute(_OF_CUSTOMER, {"customer_id": customer_id}))


# The order page's three statements, built once (crm.loading: the two collections without selectinload).
_DETAIL = (select(RepairOrder).where(RepairOrder.id == bindparam("order_id"))
           .options(joinedload(RepairOrder.customer), joinedload(RepairOrder.technician),
                    joinedload(RepairOrder.created_by), joinedload(RepairOrder.warranty_of)))
LINES_OF_ORDER = (select(RepairOrderLine).where(RepairOrderLine.order_id == bindparam("order_id"))
                  .order_by(RepairOrderLine.id))
_HISTORY = (select(OrderStatusChange).where(OrderStatusChange.order_id == bindparam("order_id"))
            .options(joinedload(OrderStatusChange.changed_by)).order_by(OrderStatusChange.id))


def order_detail(session: Session, order_id: int) -> RepairOrder | None:
    """The order with its customer, technician, intake person, warranty original, lines and status history (each
    change with who made it), in three statements."""
    order = session.scalar(_DETAIL, {"order_id": order_id})
    if order is not None:
        attach(order, "lines", session.scalars(LINES_OF_ORDER, {"order_id": order.id}), back="order")
        attach(order, "history", session.scalars(_HISTORY, {"order_id": order.id}), back="order")
    return order
