"""The rules of feedback: one per repair order, only after pickup, a rating of 1 to 5 with an optional
plain-text comment, changeable for a few days after the first rating; a low rating (1-2) is to be followed up
by the manager, with a note and a status."""

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm.auth.models import StaffUser
from crm.database import utcnow
from crm.errors import RuleError
from crm.feedback.models import COMMENT_MAX, LOW_RATINGS, NOTE_MAX, Feedback, FollowUp
from crm.locales import lazy_gettext as _l
from crm.orders.models import RepairOrder
from crm.orders.service import lock_order
from crm.orders.status import Status
from crm.text import CONTROL_CHARACTERS


class FeedbackError(RuleError):
    pass


def feedback_of_order(session: Session, order_id: int) -> Feedback | None:
    return session.scalar(select(Feedback).where(Feedback.order_id == order_id))


def change_until(feedback: Feedback, change_days: int) -> datetime:
    """The customer may change their feedback until this moment: ``change_days`` after the first rating."""
    return feedback.created_at + timedelta(days=change_days)


def can_rate(order: RepairOrder, feedback: Feedback | None, *, now: datetime, change_days: int) -> bool:
    """Whether the customer's page offers the rating form: after pickup, and while a rating may still change."""
    if order.status != Status.PICKED_UP:
        return False
    return feedback is None or now <= change_until(feedback, change_days)


def _check_rating(rating) -> int:
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise FeedbackError(_l("Choose from 1 to 5 stars."), field="rating")
    return rating


def _check_text(text: str | None, limit: int, field: str) -> str:
    text = (text or "").strip()
    if len(text) > limit:
        raise FeedbackError(_l("At most %(n)d characters, please.", n=limit), field=field)
    if CONTROL_CHARACTERS.search(text):
        raise FeedbackError(_l("This text contains characters that cannot be stored."), field=field)
    return text


def _follow_up_after(feedback: Feedback, old_rating: int | None) -> str:
    """A rating that becomes low is to be followed up; one that stops being low needs nothing (a follow-up already
    done stays done); a low rating changed to another low one keeps its follow-up as it was."""
    low, was_low = feedback.rating in LOW_RATINGS, old_rating in LOW_RATINGS
    if low and not was_low:
        return FollowUp.OPEN
    if not low and feedback.follow_up == FollowUp.OPEN:
        return FollowUp.NONE
    return feedback.follow_up


def leave_feedback(session: Session, order_id: int, rating, comment: str | None, *, change_days: int,
                   now: datetime | None = None) -> Feedback:
    """Record the customer's rating of a picked-up repair: the first one, or a change within ``change_days`` of
    it. The order's row lock (and the UNIQUE order_id) makes two tabs or a replayed POST leave one feedback."""
    now = now or utcnow()
    rating = _check_rating(rating)
    comment = _check_text(comment, COMMENT_MAX, "comment")
    order = lock_order(session, order_id)
    if order is None or order.status != Status.PICKED_UP:
        raise FeedbackError(_l("Feedback can be left once the device has been picked up."), field="rating")
    feedback = feedback_of_order(session, order.id)
    if feedback is None:
        feedback = Feedback(order_id=order.id, customer_id=order.customer_id, rating=rating, comment=comment,
                            created_at=now, updated_at=now, follow_up=FollowUp.NONE)
        feedback.follow_up = _follow_up_after(feedback, None)
        try:
            with session.begin_nested():
                session.add(feedback)
            return feedback
        except IntegrityError:  # SQLite without the row lock: the other tab's feedback is now there
            feedback = feedback_of_order(session, order.id)
    if now > change_until(feedback, change_days):
        raise FeedbackError(_l("Thank you: your feedback is recorded. It can no longer be changed."), field="rating")
    old_rating = feedback.rating
    feedback.rating, feedback.comment, feedback.updated_at = rating, comment, now
    feedback.follow_up = _follow_up_after(feedback, old_rating)
    session.flush()
    return feedback


def record_follow_up(session: Session, feedback: Feedback, *, status: str, note: str | None, actor: StaffUser,
                     now: datetime | None = None) -> Feedback:
    """The manager's follow-up of a low rating: a note (what was done, what the customer said) and whether it
    is still open or done; who and when are recorded."""
    if feedback.follow_up == FollowUp.NONE:
        raise FeedbackError(_l("Only a rating of 1 or 2 stars is followed up."), field="status")
    if status not in (FollowUp.OPEN, FollowUp.DONE):
        raise FeedbackError(_l("Choose open or done."), field="status")
    feedback.follow_up_note = _check_text(note, NOTE_MAX, "note")
    feedback.follow_up = status
    feedback.followed_up_by_id, feedback.followed_up_at = actor.id, now or utcnow()
    session.flush()
    return feedback
