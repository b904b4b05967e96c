"""The Feedback page (manager only, filters, follow-up) and the customer's rating on the tracking page."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from crm.database import utcnow
from crm.extensions import db
from crm.feedback import service
from crm.feedback.models import COMMENT_MAX, Feedback, FollowUp
from crm.feedback.sections import form_token
from tests import factories
from tests.conftest import csrf_token
from tests.feedback.conftest import picked_up_order
from tests.helpers import app_session

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


def rated(app, rating, comment="", *, technician_name=None, days_ago=0):
    """A picked-up order (its technician named ``technician_name``) rated ``rating`` ``days_ago`` days ago."""
    with app_session(app) as session:
        technician = factories.staff(role="technician", full_name=technician_name) if technician_name else None
        order = picked_up_order(session, at=utcnow() - timedelta(days=days_ago + 1), technician=technician)
        feedback = service.leave_feedback(session, order.id, rating, comment, change_days=3,
                                          now=utcnow() - timedelta(days=days_ago))
        ids = {"order": order.id, "token": order.tracking_token, "feedback": feedback.id,
               "technician": technician.id if technician else None, "customer": order.customer_id}
    return ids


def picked_up(app):
    with app_session(app) as session:
        order = picked_up_order(session, at=utcnow() - timedelta(hours=1))
        return order.tracking_token, order.id


def signed(app, token: str) -> str:
    """The form token the customer's page carries for this tracking token."""
    with app.app_context():
        return form_token(token)


def post_rating(client, token, rating="5", comment="", form=None):
    form = form if form is not None else signed(client.application, token)
    return client.post(f"/t/{token}/feedback", data={"form_token": form, "rating": rating, "comment": comment})


def feedback_of(app, order_id):
    with app.app_context():
        feedback = db.session.scalar(select(Feedback).where(Feedback.order_id == order_id))
        db.session.remove()
        return feedback


# --- the manager's page ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ["technician", "front_desk"])
def test_only_the_manager_sees_the_feedback_page(auth, client, role):
    auth.login(role)
    assert client.get("/feedback").status_code == 403


def test_the_feedback_page_filters_by_rating_technician_and_date_and_flags_low_ratings(app, auth, client):
    rated(app, 5, "Lovely", technician_name="Taras")
    low = rated(app, 1, "Still broken", technician_name="Petro")
    rated(app, 4, "Long ago", days_ago=40)
    auth.login("manager")
    html = client.get("/feedback").get_data(as_text=True)
    assert "Lovely" in html and "Still broken" in html and "Long ago" in html
    low_row = re.search(rf'<tr id="feedback-{low["feedback"]}" class="([^"]*)"', html)
    assert "table-danger" in low_row.group(1) and "To follow up" in html

    assert "Lovely" in client.get("/feedback?rating=5").get_data(as_text=True)
    assert "Still broken" not in client.get("/feedback?rating=5").get_data(as_text=True)
    by_technician = client.get(f"/feedback?technician={low['technician']}").get_data(as_text=True)
    assert "Still broken" in by_technician and "Lovely" not in by_technician
    today = utcnow().date()
    recent = client.get(f"/feedback?from={today - timedelta(days=7)}&to={today + timedelta(days=1)}")
    assert "Long ago" not in recent.get_data(as_text=True) and "Lovely" in recent.get_data(as_text=True)
    to_follow = client.get("/feedback?follow_up=open").get_data(as_text=True)
    assert "Still broken" in to_follow and "Lovely" not in to_follow


def test_the_comment_is_shown_escaped(app, auth, client):
    rated(app, 2, "<script>alert(1)</script>")
    auth.login("manager")
    html = client.get("/feedback").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_manager_records_the_follow_up_of_a_low_rating(app, auth, client):
    low = rated(app, 1, "Still broken")
    auth.login("manager")
    token = csrf_token(client, "/feedback")
    prefix = f"f{low['feedback']}-"
    response = client.post(f"/feedback/{low['feedback']}/follow-up?rating=1",
                           data={"csrf_token": token, prefix + "status": "done", prefix + "note": "Called, re-check"})
    assert response.status_code == 302 and response.headers["Location"].startswith("/feedback?rating=1")
    feedback = feedback_of(app, low["order"])
    assert (feedback.follow_up, feedback.follow_up_note) == (FollowUp.DONE, "Called, re-check")


def test_a_follow_up_note_too_long_is_refused_next_to_the_field_and_kept(app, auth, client):
    low = rated(app, 2)
    auth.login("manager")
    prefix = f"f{low['feedback']}-"
    response = client.post(f"/feedback/{low['feedback']}/follow-up",
                           data={"csrf_token": csrf_token(client, "/feedback"), prefix + "status": "done",
                                 prefix + "note": "n" * 3000})
    assert response.status_code == 422
    assert f'id="{prefix}note-error"' in response.get_data(as_text=True)
    assert feedback_of(app, low["order"]).follow_up == FollowUp.OPEN


def test_the_order_page_and_the_customer_page_show_the_feedback(app, auth, client):
    ids = rated(app, 4, "Quick job")
    auth.login("front_desk")
    assert "Quick job" in client.get(f"/orders/{ids['order']}").get_data(as_text=True)
    assert "Quick job" in client.get(f"/customers/{ids['customer']}/messages").get_data(as_text=True)


# --- the customer's page -----------------------------------------------------------------------------------------

def test_after_pickup_the_page_asks_for_stars_with_a_label_each(app, client):
    token, _ = picked_up(app)
    html = client.get(f"/t/{token}").get_data(as_text=True)
    for n in range(1, 6):
        assert re.search(rf'<input class="btn-check" type="radio" name="rating" id="rating-{n}" value="{n}"', html)
        assert f'for="rating-{n}"' in html
    assert signed(app, token) in html


def test_before_pickup_the_page_asks_nothing(app, client):
    with app_session(app):
        order = factories.order()
        token = order.tracking_token
    assert 'name="rating"' not in client.get(f"/t/{token}").get_data(as_text=True)
    response = post_rating(client, token)
    assert response.status_code == 409
    assert "once the device has been picked up" in response.get_data(as_text=True)


def test_a_rating_is_saved_and_the_page_says_thanks_with_the_review_link(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "REVIEW_URL", "https://maps.example/review")
    token, order_id = picked_up(app)
    response = post_rating(client, token, "5", "Great work")
    assert response.status_code == 303 and response.headers["Location"] == f"/t/{token}#feedback"
    assert response.headers["Cache-Control"] == "no-store"
    page = client.get(f"/t/{token}").get_data(as_text=True)
    assert "Thank you for your feedback" in page and 'href="https://maps.example/review"' in page
    assert feedback_of(app, order_id).rating == 5


def test_a_low_rating_says_the_manager_will_get_in_touch_and_offers_no_review_link(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "REVIEW_URL", "https://maps.example/review")
    token, _ = picked_up(app)
    post_rating(client, token, "1", "Broken again")
    page = client.get(f"/t/{token}").get_data(as_text=True)
    assert "manager will get in touch" in page and "maps.example" not in page


@pytest.mark.parametrize("forged", ["", "0" * 64, "not-a-token"])
def test_a_forged_form_token_is_refused(app, client, forged):
    token, order_id = picked_up(app)
    response = post_rating(client, token, form=forged)
    assert response.status_code == 400 and response.headers["Cache-Control"] == "no-store"
    assert feedback_of(app, order_id) is None


def test_the_form_token_of_another_order_does_not_fit(app, client):
    token, order_id = picked_up(app)
    other, _ = picked_up(app)
    assert post_rating(client, token, form=signed(app, other)).status_code == 400
    assert feedback_of(app, order_id) is None


def test_an_unknown_tracking_token_is_a_404(client):
    assert post_rating(client, "x" * 32).status_code == 404
    assert post_rating(client, "bad\x00token").status_code == 404


@pytest.mark.parametrize("rating", ["0", "6", "", "５", "1e3", "<b>", "99999999999999999999"])
def test_a_garbage_rating_is_refused_next_to_the_stars(app, client, rating):
    token, order_id = picked_up(app)
    response = post_rating(client, token, rating, "Kept comment")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="rating-error"' in html and "Kept comment" in html
    assert feedback_of(app, order_id) is None


def test_a_huge_comment_is_refused_and_kept_in_the_form(app, client):
    token, order_id = picked_up(app)
    response = post_rating(client, token, "4", "y" * (COMMENT_MAX + 1))
    assert response.status_code == 422 and 'id="comment-error"' in response.get_data(as_text=True)
    assert feedback_of(app, order_id) is None
    assert post_rating(client, token, "4", "y" * (2 * 1024 * 1024)).status_code == 413  # above MAX_CONTENT_LENGTH


def test_a_change_after_the_window_is_refused_with_the_feedback_as_it_stands(app, client):
    ids = rated(app, 5, "First words", days_ago=4)  # FEEDBACK_CHANGE_DAYS is 3
    page = client.get(f"/t/{ids['token']}").get_data(as_text=True)
    assert 'name="rating"' not in page and "First words" in page
    response = post_rating(client, ids["token"], "1", "Replayed stale form")
    assert response.status_code == 409 and "can no longer be changed" in response.get_data(as_text=True)
    assert feedback_of(app, ids["order"]).rating == 5


def test_a_change_within_the_window_replaces_the_rating(app, client):
    ids = rated(app, 2, "Scratch", days_ago=1)
    assert post_rating(client, ids["token"], "4", "Fixed").status_code == 303
    feedback = feedback_of(app, ids["order"])
    assert (feedback.rating, feedback.comment, feedback.follow_up) == (4, "Fixed", FollowUp.NONE)


def test_the_rating_post_is_rate_limited(app, client, monkeypatch):
    token, _ = picked_up(app)
    monkeypatch.setitem(app.config, "TRACKING_RATE_LIMIT", "2 per minute")
    from crm.extensions import limiter
    limiter.reset()
    codes = [post_rating(client, token, "9").status_code for _ in range(3)]
    limiter.reset()
    assert codes == [422, 422, 429]


def test_the_feedback_page_costs_the_same_statements_for_two_ratings_or_seven(app, auth, client, count_queries):
    """Order, customer, technician and follow-up author come with each rating in the page's one query."""
    for rating in (5, 1):
        rated(app, rating, "first", technician_name="Taras")
    auth.login("manager")
    with count_queries() as few:
        assert client.get("/feedback").status_code == 200
    for rating in (2, 3, 4, 5, 1):
        rated(app, rating, "more", technician_name="Petro")
    with count_queries() as many:
        assert client.get("/feedback").status_code == 200
    assert many.count == few.count
