"""The sale's message to its customer: a repair picked up and paid, with the points of the payment.
Key: ``status:<status change id>`` (the picked-up change), so a retried checkout never messages twice."""

from sqlalchemy.orm import Session

from crm.customers import contact
from crm.customers.models import Customer
from crm.locales import lazy_text
from crm.money import shop_money
from crm.notifications.outbox import enqueue
from crm.orders.messages import order_variables
from crm.orders.models import OrderStatusChange, RepairOrder
from crm.sales.models import Sale


def picked_up(session: Session, order: RepairOrder, sale: Sale, change: OrderStatusChange) -> None:
    customer = session.get(Customer, order.customer_id)
    enqueue(session, contact.recipient(customer), "picked_up",
            {**order_variables(order, customer), "total": lazy_text(lambda: shop_money(sale.total_minor)),
             "points_earned": sale.points_earned or 0, "points_balance": sale.points_balance_after or 0},
            dedupe_key=f"status:{change.id}", now=change.changed_at)
