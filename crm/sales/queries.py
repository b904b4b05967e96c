"""Read-only queries of the sales pages, each a fixed number of statements."""

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload, selectinload

from crm.sales.models import Payment, Sale, SaleStatus
from crm.text import CONTROL_CHARACTERS


def paid_sales(session: Session, *, number: str = "", page: int = 1, per_page: int = 25) -> tuple[list[Sale], bool]:
    """Paid sales, newest first (the status+id index), or the one whose number is typed exactly."""
    query = select(Sale).where(Sale.status == SaleStatus.PAID)
    number = CONTROL_CHARACTERS.sub("", number).strip()
    if number:
        query = query.where(Sale.number == number.upper())
    # The page's ids from the index first, then those sales with their people in the same statement.
    ids = (query.with_only_columns(Sale.id).order_by(Sale.id.desc()).offset((max(page, 1) - 1) * per_page)
           .limit(per_page + 1).subquery("page"))
    rows = list(session.scalars(
        select(Sale).join(ids, ids.c.id == Sale.id).order_by(Sale.id.desc())
        .options(joinedload(Sale.customer), joinedload(Sale.paid_by), joinedload(Sale.repair_order))
    ))
    return rows[:per_page], len(rows) > per_page


def open_carts(session: Session, limit: int = 50) -> list[Sale]:
    """Bills started and not yet paid, newest first."""
    return list(session.scalars(
        select(Sale).where(Sale.status == SaleStatus.OPEN).order_by(Sale.id.desc()).limit(limit)
        .options(joinedload(Sale.customer), joinedload(Sale.created_by), joinedload(Sale.repair_order))
    ))


def cart(session: Session, sale_id: int) -> Sale | None:
    """A sale with its lines and customer, for the cart page (one statement)."""
    return session.scalars(select(Sale).where(Sale.id == sale_id)
                           .options(joinedload(Sale.lines), joinedload(Sale.customer))).unique().first()


_OF_CUSTOMER = (select(Sale).where(Sale.customer_id == bindparam("customer_id"), Sale.status == SaleStatus.PAID)
                .order_by(Sale.id.desc()).limit(bindparam("limit")).options(joinedload(Sale.repair_order)))


def sales_of_customer(session: Session, customer_id: int, limit: int = 50) -> list[Sale]:
    """The customer's paid sales for the profile page, newest first (built once: it runs on every visit)."""
    return list(session.scalars(_OF_CUSTOMER, {"customer_id": customer_id, "limit": limit}))


def sale_receipt(session: Session, sale_id: int) -> Sale | None:
    """A sale with everything its receipt shows, in a fixed number of queries."""
    return session.scalar(
        select(Sale).where(Sale.id == sale_id).options(
            selectinload(Sale.lines), selectinload(Sale.payments).joinedload(Payment.taken_by),
            joinedload(Sale.customer), joinedload(Sale.repair_order), joinedload(Sale.paid_by),
        )
    )
