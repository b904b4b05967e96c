"""Where the order's feedback shows outside the Feedback page: the customer's tracking page (the rating form after
pickup), the staff's order page and the customer page. orders and customers cannot import feedback, so this module
registers its sections with them at import (crm.orders.sections, crm.customers.profile)."""


from flask import current_app
from sqlalchemy.orm import Session

from crm.customers.models import Customer
from crm.customers.profile import MESSAGES, ProfileSection, register_profile_section
from crm.database import utcnow
from crm.feedback import queries, service
from crm.feedback.forms import FeedbackForm
from crm.orders.models import RepairOrder
from crm.orders.sections import OrderSection, register_order_page_section, register_tracking_section
from crm.orders.status import Status
from crm.orders.tracking import page_form_token

TRACKING_TEMPLATE = "feedback/_tracking_feedback.html"


def form_token(tracking_token: str) -> str:
    """The rating form's CSRF token: HMAC-SHA256(SECRET_KEY, the tracking token); why, in public_views.py."""
    return page_form_token(current_app.config["SECRET_KEY"], tracking_token, "feedback")


def tracking_context(session: Session, order: RepairOrder) -> dict | None:
    """After pickup: the customer's feedback (if any), the form while it may still change, and the review link."""
    if order.status != Status.PICKED_UP:
        return None
    feedback = service.feedback_of_order(session, order.id)
    change_days = current_app.config["FEEDBACK_CHANGE_DAYS"]
    form = FeedbackForm(formdata=None, rating=str(feedback.rating) if feedback else None,
                        comment=feedback.comment if feedback else "")
    return {"feedback": feedback, "form": form, "form_token": form_token(order.tracking_token),
            "can_rate": service.can_rate(order, feedback, now=utcnow(), change_days=change_days),
            "review_url": current_app.config["REVIEW_URL"], "problem": None}


def order_page_context(session: Session, order: RepairOrder) -> dict | None:
    if order.status != Status.PICKED_UP:
        return None
    return {"feedback": service.feedback_of_order(session, order.id)}


def profile_context(session: Session, customer: Customer) -> dict:
    return {"feedback": queries.feedback_of_customer(session, customer.id)}


register_tracking_section(OrderSection(template=TRACKING_TEMPLATE, context=tracking_context, order=50))
register_order_page_section(OrderSection(template="feedback/_order_feedback.html", context=order_page_context))
register_profile_section(ProfileSection(template="feedback/_customer_feedback.html", context=profile_context,
                                        order=20, tab=MESSAGES))
