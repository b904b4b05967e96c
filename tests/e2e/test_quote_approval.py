"""A quote approved from the customer's phone: the technician asks, the customer opens the link from the
message at a phone-sized viewport and approves, and the technician sees "approved" in the queue."""

import re

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from crm.extensions import db
from crm.notifications.models import OutboxMessage
from crm.orders import service
from tests import factories
from tests.e2e.conftest import PHONE


def test_the_customer_approves_the_quote_from_the_message_on_a_phone(app, page: Page, browser: Browser, base_url,
                                                                      staff_user, login, artifacts, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")  # so the message is written, not skipped
    staff_user("technician", "tech-quote", "Quote Tech")
    with app.app_context():
        customer = factories.customer(name="Iryna Quote", phone="+380661234577", email="iryna@example.com")
        order = factories.order(customer, brand="Samsung", model="Galaxy S21", estimate_minor=120000)
        service.add_line(db.session, order, kind="labour", description="Screen replacement", quantity=1,
                         unit_price_minor=150000, actor=None)
        number, order_id = order.number, order.id
        db.session.commit()
        db.session.remove()

    # The technician diagnoses and asks for approval, choosing where an approval takes the order.
    login("tech-quote")
    page.goto(f"/orders/{order_id}")
    page.get_by_label("New status").select_option(label="Diagnosing")
    page.get_by_role("button", name="Change status").click()
    page.get_by_label("New status").select_option(label="Awaiting approval")
    page.get_by_label("When the customer approves").select_option(label="In repair")
    page.get_by_role("button", name="Change status").click()
    expect(page.get_by_role("alert")).to_contain_text("is now: Awaiting approval.")

    with app.app_context():
        message = db.session.scalars(select(OutboxMessage).where(OutboxMessage.event == "status_changed")
                                     .order_by(OutboxMessage.id.desc())).first()
        body = message.body_text
        db.session.remove()
    assert "The quote is UAH1,500.00" in body
    link = re.search(r"https://\S+/t/[A-Za-z0-9_-]+", body).group(0)

    # The customer opens the link on a phone.
    customer_context = browser.new_context(viewport=PHONE, locale="en-GB", base_url=base_url)
    phone = customer_context.new_page()
    phone.set_default_timeout(5_000)
    phone.goto(re.sub(r"^https://[^/]+", "", link))
    expect(phone.get_by_role("heading", name="Your quote")).to_be_visible()
    expect(phone.locator("#quote-total")).to_have_text("UAH1,500.00")
    expect(phone.locator("#quote-difference")).to_have_text("+UAH300.00")
    approve = phone.get_by_role("button", name="Approve")
    expect(approve).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing wider than the phone
    phone.screenshot(path=str(artifacts / "quote-phone.png"), full_page=True)
    approve.click()
    expect(phone.locator("#quote-decision")).to_contain_text("You approved the quote of UAH1,500.00")
    expect(phone.get_by_role("button", name="Approve")).to_have_count(0)
    customer_context.close()

    # The technician sees it in the queue.
    page.goto("/orders/queue")
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=number))
    expect(row).to_contain_text("Quote approved")
    expect(row).to_contain_text("In repair")
