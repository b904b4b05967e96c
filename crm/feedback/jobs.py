"""The feedback request: a service message some days after pickup (FEEDBACK_REQUEST_DAYS, default two) that
links to the customer's page, once per order (outbox key ``feedback:<order id>``). An order picked up while the
scheduler was down is asked up to the notification settings' catch-up days late, never later: a request weeks
after the repair would only puzzle the customer."""

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import String, cast, exists, literal, select
from sqlalchemy.orm import Session

from crm.customers import contact
from crm.customers.models import Customer
from crm.feedback.models import Feedback
from crm.jobs import daily
from crm.notifications.models import OutboxMessage
from crm.notifications.outbox import enqueue
from crm.notifications.settings import get_settings
from crm.orders.messages import order_variables
from crm.orders.models import RepairOrder
from crm.orders.status import Status

BATCH = 200


def dedupe_key(order_id: int) -> str:
    return f"feedback:{order_id}"


@daily("feedback-requests", at="11:00")
def feedback_requests(session: Session, now: datetime) -> int:
    return request_feedback(session, now=now, delay_days=current_app.config["FEEDBACK_REQUEST_DAYS"])


def request_feedback(session: Session, *, now: datetime, delay_days: int, batch: int = BATCH) -> int:
    """Ask for feedback on every repair picked up at least ``delay_days`` ago (and at most the catch-up days
    before that), not asked yet and not rated yet, committing per batch. Selected in one query: an anti-join on
    the outbox key and on the feedback. Returns how many requests were added."""
    due_before = now - timedelta(days=delay_days)
    due_after = due_before - timedelta(days=get_settings(session).catch_up_days + 1)
    key = literal("feedback:") + cast(RepairOrder.id, String)
    ids = list(session.scalars(
        select(RepairOrder.id)
        .where(RepairOrder.status == Status.PICKED_UP, RepairOrder.closed_at <= due_before,
               RepairOrder.closed_at > due_after,
               ~exists().where(OutboxMessage.dedupe_key == key),
               ~exists().where(Feedback.order_id == RepairOrder.id))
        .order_by(RepairOrder.id)))
    for start in range(0, len(ids), batch):
        rows = session.execute(
            select(RepairOrder, Customer).join(Customer, Customer.id == RepairOrder.customer_id)
            .where(RepairOrder.id.in_(ids[start:start + batch])).order_by(RepairOrder.id)).all()
        for order, customer in rows:
            enqueue(session, contact.recipient(customer), "feedback_request", order_variables(order, customer),
                    dedupe_key=dedupe_key(order.id), now=now)
        session.commit()
    return len(ids)
