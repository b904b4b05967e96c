"""Read-only queries of the sales pages, each a fixed number of statements."""

from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import Session, joinedload

from crm.auth.models import StaffUser
from crm.customers.models import Customer
from crm.loading import attach
from crm.orders.models import RepairOrder
from crm.sales.models import Payment, Sale, SaleLine, SaleStatus
from crm.text import CONTROL_CHARACTERS


def _paid_sales_statement(by_number: bool):
    """The sales list's statement, built once for each of its two shapes (every paid sale, or the one with a number).
    The page's ids come from the status+id index first, then those sales with their people in the same statement."""
    query = select(Sale.id).where(Sale.status == SaleStatus.PAID)
    if by_number:
        query = query.where(Sale.number == bindparam("number"))
    ids = query.order_by(Sale.id.desc()).offset(bindparam("offset")).limit(bindparam("limit")).subquery("page")
    return (select(Sale.id, Sale.number, Sale.paid_at, Sale.total_minor, Customer.name.label("customer_name"),
                   RepairOrder.number.label("order_number"), StaffUser.full_name.label("paid_by_name"))
            .join(ids, ids.c.id == Sale.id)
            .outerjoin(Customer, Customer.id == Sale.customer_id)
            .outerjoin(RepairOrder, RepairOrder.id == Sale.repair_order_id)
            .outerjoin(StaffUser, StaffUser.id == Sale.paid_by_id)
            .order_by(Sale.id.desc()))


_PAID_SALES = {by_number: _paid_sales_statement(by_number) for by_number in (False, True)}


def paid_sales(session: Session, *, number: str = "", page: int = 1, per_page: int = 25) -> tuple[list[Row], bool]:
    """Paid sales, newest first, or the one whose number is typed exactly: rows of what the list shows (id, number,
    paid_at, total_minor, customer_name, order_number, paid_by_name), not ORM objects (loading 25 sales with three
    related objects each was a third of the page). The statements are built once: building one cost more than
    running it."""
    number = CONTROL_CHARACTERS.sub("", number).strip()
    values = {"offset": (max(page, 1) - 1) * per_page, "limit": per_page + 1}
    if number:
        values["number"] = number.upper()
    rows = list(session.execute(_PAID_SALES[bool(number)], values))
    return rows[:per_page], len(rows) > per_page


_OPEN_CARTS = (select(Sale.id, Sale.created_at, Customer.name.label("customer_name"),
                      RepairOrder.number.label("order_number"), StaffUser.full_name.label("created_by_name"))
               .outerjoin(Customer, Customer.id == Sale.customer_id)
               .outerjoin(RepairOrder, RepairOrder.id == Sale.repair_order_id)
               .outerjoin(StaffUser, StaffUser.id == Sale.created_by_id)
               .where(Sale.status == SaleStatus.OPEN).order_by(Sale.id.desc()).limit(bindparam("limit")))


def open_carts(session: Session, limit: int = 50) -> list[Row]:
    """Bills started and not yet paid, newest first: rows of what the list shows (id, created_at, customer_name,
    order_number, created_by_name)."""
    return list(session.execute(_OPEN_CARTS, {"limit": limit}))


def cart(session: Session, sale_id: int) -> Sale | None:
    """A sale with its lines and customer, for the cart page (one statement)."""
    return session.scalars(select(Sale).where(Sale.id == sale_id)
                           .options(joinedload(Sale.lines), joinedload(Sale.customer))).unique().first()


_OF_CUSTOMER = (select(Sale.id, Sale.number, Sale.paid_at, Sale.total_minor, RepairOrder.number.label("order_number"))
                .outerjoin(RepairOrder, RepairOrder.id == Sale.repair_order_id)
                .where(Sale.customer_id == bindparam("customer_id"), Sale.status == SaleStatus.PAID)
                .order_by(Sale.id.desc()).limit(bindparam("limit")))


def sales_of_customer(session: Session, customer_id: int, limit: int = 50) -> list[Row]:
    """The customer's paid sales for the profile page, newest first: rows of id, number, paid_at, total_minor and
    order_number (None for a sale without a repair). Built once and read as rows: it runs on every visit."""
    return list(session.execute(_OF_CUSTOMER, {"customer_id": customer_id, "limit": limit}))


# The receipt's three statements, built once (crm.loading: the collections without selectinload).
_RECEIPT = (select(Sale).where(Sale.id == bindparam("sale_id"))
            .options(joinedload(Sale.customer), joinedload(Sale.repair_order), joinedload(Sale.paid_by)))
_LINES = select(SaleLine).where(SaleLine.sale_id == bindparam("sale_id")).order_by(SaleLine.id)
_PAYMENTS = (select(Payment).where(Payment.sale_id == bindparam("sale_id")).order_by(Payment.id)
             .options(joinedload(Payment.taken_by)))


def sale_receipt(session: Session, sale_id: int) -> Sale | None:
    """A sale with everything its receipt shows (customer, repair, who took it, lines, payments and who took each),
    in three statements."""
    sale = session.scalar(_RECEIPT, {"sale_id": sale_id})
    if sale is not None:
        attach(sale, "lines", session.scalars(_LINES, {"sale_id": sale.id}), back="sale")
        attach(sale, "payments", session.scalars(_PAYMENTS, {"sale_id": sale.id}), back="sale")
    return sale
