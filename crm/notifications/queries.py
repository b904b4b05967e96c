"""The outbox as the manager's Messages page reads it."""

from sqlalchemy import column, func, select, table
from sqlalchemy.orm import Session

from crm.notifications.models import OutboxMessage

FILTERS = {"attention": ("pending", "sending", "failed"), "pending": ("pending", "sending"), "failed": ("failed",),
           "skipped": ("skipped",), "sent": ("sent",)}
# Customers live in crm.customers, which notifications must not import: read the name by table name.
_customer = table("customers_customer", column("id"), column("name"))


def outbox_page(session: Session, statuses: tuple[str, ...] | None, page: int, per_page: int):
    """(message, customer name) rows, newest first, and whether there is a next page."""
    query = (select(OutboxMessage, _customer.c.name).outerjoin(_customer, _customer.c.id == OutboxMessage.customer_id)
             .order_by(OutboxMessage.id.desc()).offset((page - 1) * per_page).limit(per_page + 1))
    if statuses:
        query = query.where(OutboxMessage.status.in_(statuses))
    rows = session.execute(query).all()
    return rows[:per_page], len(rows) > per_page


def attention_counts(session: Session) -> dict[str, int]:
    """Messages that need attention, by status. Counted only where the rows are few, from the status index: sent
    and skipped rows pile up for years."""
    return dict(session.execute(
        select(OutboxMessage.status, func.count()).where(OutboxMessage.status.in_(FILTERS["attention"]))
        .group_by(OutboxMessage.status)).all())
