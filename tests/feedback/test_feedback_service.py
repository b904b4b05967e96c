"""The rules of feedback: one per order, only after pickup, 1-5 stars, plain comment within its limit, changeable
for FEEDBACK_CHANGE_DAYS after the first rating, low ratings followed up."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.feedback import service
from crm.feedback.models import COMMENT_MAX, Feedback, FollowUp
from crm.orders.service import change_status
from tests import factories
from tests.factories import sales
from tests.feedback.conftest import PICKED_UP_AT, picked_up_order

LATER = PICKED_UP_AT + timedelta(days=2)
DAYS = 3


def leave(session, order, rating, comment="", now=LATER):
    return service.leave_feedback(session, order.id, rating, comment, change_days=DAYS, now=now)


def count(session) -> int:
    return session.scalar(select(func.count()).select_from(Feedback))


def test_a_picked_up_repair_gets_one_rating_with_its_comment(session, picked_up):
    order = picked_up()
    feedback = leave(session, order, 5, "  Fast and friendly  ")
    assert (feedback.rating, feedback.comment, feedback.customer_id) == (5, "Fast and friendly", order.customer_id)
    assert feedback.created_at == feedback.updated_at == LATER
    assert feedback.follow_up == FollowUp.NONE


@pytest.mark.parametrize("status_path", [(), ("diagnosing",), ("diagnosing", "ready")])
def test_an_order_not_picked_up_cannot_be_rated(session, make, status_path):
    manager = make.staff(role="manager")
    order = make.order()
    for status in status_path:
        change_status(session, order, status, actor=manager)
    with pytest.raises(service.FeedbackError) as refused:
        leave(session, order, 5)
    assert refused.value.field == "rating"
    assert count(session) == 0


@pytest.mark.parametrize("rating", [0, 6, -1, 10**9, None, "5", 4.5, True])
def test_a_rating_outside_one_to_five_is_refused(session, picked_up, rating):
    with pytest.raises(service.FeedbackError) as refused:
        leave(session, picked_up(), rating)
    assert refused.value.field == "rating"


def test_a_comment_longer_than_the_limit_is_refused_and_one_at_the_limit_kept(session, picked_up):
    order = picked_up()
    with pytest.raises(service.FeedbackError) as refused:
        leave(session, order, 4, "x" * (COMMENT_MAX + 1))
    assert refused.value.field == "comment"
    assert len(leave(session, order, 4, "x" * COMMENT_MAX).comment) == COMMENT_MAX


def test_the_comment_is_stored_as_typed_markup_and_all(session, picked_up):
    feedback = leave(session, picked_up(), 3, "<script>alert(1)</script> & co")
    assert feedback.comment == "<script>alert(1)</script> & co"  # escaped where shown, never rewritten


def test_a_second_rating_within_the_change_window_changes_the_one_feedback(session, picked_up):
    order = picked_up()
    first = leave(session, order, 2, "Scratched")
    second = leave(session, order, 4, "They fixed the scratch", now=LATER + timedelta(days=DAYS))
    assert second.id == first.id and count(session) == 1
    assert (second.rating, second.comment, second.created_at) == (4, "They fixed the scratch", LATER)
    assert second.updated_at == LATER + timedelta(days=DAYS)


def test_after_the_change_window_the_feedback_stays_as_it_was(session, picked_up):
    order = picked_up()
    leave(session, order, 5, "Great")
    with pytest.raises(service.FeedbackError):
        leave(session, order, 1, "Changed my mind", now=LATER + timedelta(days=DAYS, seconds=1))
    feedback = service.feedback_of_order(session, order.id)
    assert (feedback.rating, feedback.comment) == (5, "Great")


def test_the_window_runs_from_the_first_rating_not_from_the_last_change(session, picked_up):
    order = picked_up()
    leave(session, order, 3)
    leave(session, order, 4, now=LATER + timedelta(days=DAYS - 1))
    with pytest.raises(service.FeedbackError):
        leave(session, order, 5, now=LATER + timedelta(days=DAYS, hours=1))


@pytest.mark.parametrize("rating", [1, 2])
def test_a_low_rating_is_to_be_followed_up(session, picked_up, rating):
    assert leave(session, picked_up(), rating).follow_up == FollowUp.OPEN


def test_a_rating_raised_above_two_needs_no_follow_up_and_a_lowered_one_does(session, picked_up):
    order = picked_up()
    assert leave(session, order, 1).follow_up == FollowUp.OPEN
    assert leave(session, order, 3).follow_up == FollowUp.NONE
    assert leave(session, order, 2).follow_up == FollowUp.OPEN


def test_the_manager_records_a_follow_up_with_a_note(session, picked_up):
    manager = sales.staff_member(session, "manager")
    feedback = leave(session, picked_up(), 1, "Still broken")
    service.record_follow_up(session, feedback, status=FollowUp.DONE, note="Called; free re-check booked",
                             actor=manager, now=LATER + timedelta(hours=3))
    assert (feedback.follow_up, feedback.follow_up_note) == (FollowUp.DONE, "Called; free re-check booked")
    assert (feedback.followed_up_by_id, feedback.followed_up_at) == (manager.id, LATER + timedelta(hours=3))


def test_a_follow_up_done_stays_done_when_the_customer_changes_one_low_rating_to_another(session, picked_up):
    manager = sales.staff_member(session, "manager")
    order = picked_up()
    service.record_follow_up(session, leave(session, order, 1), status=FollowUp.DONE, note="", actor=manager)
    assert leave(session, order, 2).follow_up == FollowUp.DONE


def test_a_good_rating_has_no_follow_up_and_the_status_must_be_known(session, picked_up):
    manager = sales.staff_member(session, "manager")
    with pytest.raises(service.FeedbackError):
        service.record_follow_up(session, leave(session, picked_up(), 5), status=FollowUp.DONE, note="",
                                 actor=manager)
    low = leave(session, picked_up(), 1)
    for status in ("none", "closed", ""):
        with pytest.raises(service.FeedbackError):
            service.record_follow_up(session, low, status=status, note="", actor=manager)


def test_the_database_holds_one_feedback_per_order(session, picked_up):
    order = picked_up()
    leave(session, order, 4)
    session.add(Feedback(order_id=order.id, customer_id=order.customer_id, rating=1, comment=""))
    with pytest.raises(Exception, match="(?i)unique"):
        session.flush()


def test_two_tabs_posting_at_once_leave_one_feedback(app):
    with app.app_context():
        order = picked_up_order(db.session, customer=factories.customer())
        db.session.commit()
        order_id = order.id
        db.session.remove()
    barrier, errors = threading.Barrier(2), []

    def tab(rating):
        with app.app_context():
            try:
                barrier.wait()
                service.leave_feedback(db.session, order_id, rating, "", change_days=DAYS, now=LATER)
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - every failure is a finding
                errors.append(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=tab, args=(rating,)) for rating in (2, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Feedback)) == 1
        db.session.remove()


@pytest.mark.parametrize("url", ["javascript:alert(1)", "maps.example/review", "https://", "https://x y.example"])
def test_a_review_url_that_is_no_web_address_stops_the_app_from_starting(url):
    from config import settings_problems

    assert any("REVIEW_URL" in problem for problem in settings_problems({"REVIEW_URL": url}))
    assert settings_problems({"REVIEW_URL": "https://g.page/r/shop/review"}) == []
