"""The repair's messages to its customer, added to the outbox in the transaction of the change: received,
status changed (for the statuses the settings name) and ready for pickup; picked up is the sale's message
(crm.sales.messages), with the points of the payment. Keys: ``order:<id>:received``, ``status:<change id>``."""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.customers import contact
from crm.customers.models import Customer
from crm.locales import lazy_text
from crm.money import shop_money
from crm.notifications.outbox import enqueue
from crm.notifications.settings import get_settings, notify_statuses, register_status_choices
from crm.orders.device import DEVICE_TYPES
from crm.orders.models import OrderStatusChange, RepairOrder, RepairOrderLine
from crm.orders.status import STATUS_LABELS, Status
from crm.orders.tracking import tracking_link


def order_variables(order: RepairOrder, customer: Customer) -> dict:
    """Translated parts stay lazy: the outbox evaluates them in the customer's language."""
    def device() -> str:
        device_type = str(DEVICE_TYPES.get(order.device_type, order.device_type))
        return " ".join(part for part in (device_type, order.brand, order.model) if part)

    return {**contact.message_variables(customer), "order_number": order.number,
            "device": lazy_text(device),
            "tracking_url": tracking_link(order.tracking_token)}


def order_received(session: Session, order: RepairOrder) -> None:
    customer = session.get(Customer, order.customer_id)
    enqueue(session, contact.recipient(customer), "order_received", order_variables(order, customer),
            dedupe_key=f"order:{order.id}:received", now=order.created_at)


def status_changed(session: Session, order: RepairOrder, change: OrderStatusChange) -> None:
    """Ready for pickup always messages; picked up is announced by the checkout (with its points);
    other statuses message when the settings name them."""
    target = Status(change.to_status)
    if target == Status.PICKED_UP:
        return
    if target == Status.READY:
        event = "ready_for_pickup"
    elif target.value in notify_statuses(get_settings(session)):
        event = "status_changed"
    else:
        return
    customer = session.get(Customer, order.customer_id)
    enqueue(session, contact.recipient(customer), event, {**order_variables(order, customer),
                                                          "status": STATUS_LABELS[target],
                                                          "total": _quote_total(session, order, target)},
            dedupe_key=f"status:{change.id}", now=change.changed_at)


def _quote_total(session: Session, order: RepairOrder, target: Status):
    """The quote's total when the customer is asked to approve it (the message says it beside the link),
    empty for the other statuses."""
    if target != Status.AWAITING_APPROVAL:
        return ""
    total = session.scalar(select(func.coalesce(func.sum(RepairOrderLine.quantity * RepairOrderLine.unit_price_minor),
                                                0)).where(RepairOrderLine.order_id == order.id))
    return lazy_text(lambda: shop_money(total))


# Received, ready for pickup and picked up have their own messages; the others are the manager's choice.
register_status_choices((s.value, s.label) for s in Status if s not in (Status.RECEIVED, Status.READY,
                                                                      Status.PICKED_UP))
