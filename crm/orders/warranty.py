"""Warranty returns: at intake the desk can mark an order as the warranty return of an earlier order of the
same customer that was picked up and is still within its warranty (crm.orders.tracking.warranty_until). Such an
order's work is free unless a price is typed (crm.orders.service.add_line) and its checkout earns no points for
the repair (crm.sales.loyalty.plan); the staff report counts it against the technician of the earlier order."""

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.errors import RuleError
from crm.locales import lazy_gettext as _l
from crm.orders.models import RepairOrder
from crm.orders.status import Status
from crm.orders.tracking import warranty_until


class WarrantyError(RuleError):
    pass


def _covers(order: RepairOrder, today: date) -> bool:
    until = warranty_until(order.closed_at, order.warranty_days)
    return order.status == Status.PICKED_UP and until is not None and today <= until


def warranty_candidates(session: Session, customer_id: int, today: date, *,
                        exclude_id: int | None = None) -> list[RepairOrder]:
    """The customer's picked-up orders still within their warranty on ``today`` (the shop's day), newest first.
    One query over one customer's closed orders; the warranty's last day is worked out as the order page shows it."""
    orders = session.scalars(select(RepairOrder).where(
        RepairOrder.customer_id == customer_id, RepairOrder.status == Status.PICKED_UP,
        RepairOrder.closed_at.is_not(None)).order_by(RepairOrder.closed_at.desc(), RepairOrder.id.desc()))
    return [order for order in orders if order.id != exclude_id and _covers(order, today)]


def check_warranty_of(session: Session, customer_id: int, warranty_of_id: int | None, today: date, *,
                      order_id: int | None = None) -> None:
    """Refuse a link to an order that does not exist, is this order, is another customer's, was not picked up
    yet, or whose warranty has ended by ``today``."""
    if warranty_of_id is None:
        return
    earlier = session.get(RepairOrder, warranty_of_id)
    if earlier is None or earlier.id == order_id:
        raise WarrantyError(_l("Choose an earlier order of this customer."), field="warranty_of_id")
    if earlier.customer_id != customer_id:
        raise WarrantyError(_l("Order %(n)s is another customer's order.", n=earlier.number), field="warranty_of_id")
    if earlier.status != Status.PICKED_UP:
        raise WarrantyError(_l("Order %(n)s has not been picked up: its warranty has not started.",
                               n=earlier.number), field="warranty_of_id")
    if not _covers(earlier, today):
        raise WarrantyError(_l("The warranty of order %(n)s has ended.", n=earlier.number), field="warranty_of_id")
