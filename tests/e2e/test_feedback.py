"""The customer on a phone: after pickup they open the link from the feedback request, rate the repair 5 stars and
are offered the shop's review page."""

from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import select

from crm.database import utcnow
from crm.extensions import db
from crm.feedback import jobs
from crm.notifications.models import OutboxMessage
from tests import factories
from tests.e2e.conftest import PHONE, assert_every_field_labelled
from tests.feedback.conftest import picked_up_order

REVIEW_URL = "https://maps.example/shop/review"


def test_after_pickup_the_customer_rates_five_stars_and_sees_the_review_link(app, page: Page, artifacts, live_server,
                                                                            monkeypatch):
    monkeypatch.setitem(app.config, "REVIEW_URL", REVIEW_URL)
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    picked_up_at = utcnow() - timedelta(days=2, hours=1)
    with app.app_context():
        order = picked_up_order(db.session, at=picked_up_at, customer=factories.customer(email="olena@example.com"))
        db.session.commit()
        jobs.request_feedback(db.session, now=utcnow(), delay_days=2)
        message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.event == "feedback_request"))
        link = next(word for word in message.body_text.split() if "/t/" in word)
        path = link[link.index("/t/"):]
        assert path == f"/t/{order.tracking_token}"
        db.session.remove()

    page.set_viewport_size(PHONE)
    page.goto(path)
    expect(page.get_by_role("heading", name="How did we do?")).to_be_visible()
    assert_every_field_labelled(page)
    page.locator("label", has_text="5 stars").click()  # a thumb taps the star button, the radio's label
    expect(page.get_by_label("5 stars")).to_be_checked()
    page.get_by_label("Comment (optional)").fill("Screen like new, thank you!")
    page.get_by_role("button", name="Send").click()

    expect(page.locator("#feedback-thanks")).to_contain_text("Thank you for your feedback")
    review = page.get_by_role("link", name="Review us online")
    expect(review).to_be_visible()
    expect(review).to_have_attribute("href", REVIEW_URL)
    expect(page.locator("#feedback-thanks")).to_contain_text("Screen like new, thank you!")
    expect(page.get_by_label("5 stars")).to_be_checked()  # the form, for a change within the window, shows it
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing wider than the phone
    page.screenshot(path=str(artifacts / "feedback-phone.png"), full_page=True)
