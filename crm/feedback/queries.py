"""What the feedback pages read: the manager's list with its filters, an order's and a customer's feedback."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from crm.auth.models import StaffUser
from crm.customers.models import Customer
from crm.feedback.models import Feedback, FollowUp
from crm.orders.models import RepairOrder
from crm.shop_time import day_bounds_utc


@dataclass(frozen=True)
class Filters:
    rating: int | None = None
    technician_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    to_follow_up: bool = False


@dataclass(frozen=True)
class Row:
    feedback: Feedback
    order: RepairOrder
    customer: Customer
    technician: StaffUser | None


def feedback_list(session: Session, filters: Filters, *, page: int, page_size: int) -> tuple[list[Row], bool]:
    """One page of feedback, newest first, with its order, customer and technician in one query; and whether
    there is a next page."""
    query = (select(Feedback, RepairOrder, Customer, StaffUser)
             .join(RepairOrder, RepairOrder.id == Feedback.order_id)
             .join(Customer, Customer.id == Feedback.customer_id)
             .outerjoin(StaffUser, StaffUser.id == RepairOrder.technician_id)
             .options(joinedload(Feedback.followed_up_by)))
    if filters.rating is not None:
        query = query.where(Feedback.rating == filters.rating)
    if filters.technician_id is not None:
        query = query.where(RepairOrder.technician_id == filters.technician_id)
    if filters.date_from is not None:
        query = query.where(Feedback.created_at >= day_bounds_utc(filters.date_from)[0])
    if filters.date_to is not None:
        query = query.where(Feedback.created_at < day_bounds_utc(filters.date_to)[1])
    if filters.to_follow_up:
        query = query.where(Feedback.follow_up == FollowUp.OPEN)
    rows = session.execute(query.order_by(Feedback.created_at.desc(), Feedback.id.desc())
                           .limit(page_size + 1).offset((page - 1) * page_size)).all()
    return [Row(*row) for row in rows[:page_size]], len(rows) > page_size


def feedback_of_customer(session: Session, customer_id: int) -> list[tuple[Feedback, str]]:
    """The customer's feedback with the number of the order it rates, newest first."""
    return [(fb, number) for fb, number in session.execute(
        select(Feedback, RepairOrder.number).join(RepairOrder, RepairOrder.id == Feedback.order_id)
        .where(Feedback.customer_id == customer_id).order_by(Feedback.created_at.desc()))]

