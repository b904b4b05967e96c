"""The manager in a real browser: a message that failed is found under Messages and sent again; a
template is previewed on sample data and saved."""

from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from crm.notifications.models import MessageTemplate, OutboxMessage
from tests import factories
from tests.e2e.conftest import assert_every_field_labelled
from tests.helpers import app_session


def test_manager_retries_a_failed_message_and_rewords_a_template(app, page: Page, staff_user, login):
    with app_session(app) as session:
        customer = factories.customer(name="Marta Failed", email="marta@example.com")
        session.add(OutboxMessage(event="ready_for_pickup", kind="service", customer_id=customer.id, channel="email",
                                  address="marta@example.com", status="failed", attempts=6,
                                  subject="Your phone is ready", body_text="b", last_error="550 5.1.1 no such user"))
    staff_user("manager", "boss-mira", "Mira Boss")
    login("boss-mira")

    page.get_by_role("navigation").get_by_role("link", name="Messages").click()
    expect(page.get_by_role("heading", name="Messages")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Marta Failed")
    expect(row).to_contain_text("550 5.1.1 no such user")
    expect(row).to_contain_text("Failed")
    row.get_by_role("button", name="Try again").click()
    expect(page.get_by_role("alert")).to_contain_text("will be sent again")
    page.get_by_role("link", name="Pending").click()
    expect(page.get_by_role("row").filter(has_text="Marta Failed")).to_contain_text("Pending")

    page.get_by_role("link", name="Templates").click()
    page.get_by_role("row").filter(has_text="Birthday greeting").get_by_role("link", name="en").first.click()
    assert_every_field_labelled(page)
    page.get_by_label("Message").fill("Happy birthday, {{ customer_name }}! +{{ bonus_points }} points.")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#template-preview")).to_contain_text("Happy birthday, Olena Kovalenko! +100 points.")
    expect(page.locator("#template-preview")).to_contain_text("Unsubscribe")
    page.get_by_label("Message").fill("{{ ''.__class__.__mro__ }}")
    page.get_by_role("button", name="Save template").click()
    expect(page.locator("#body-error")).to_contain_text("cannot be used")
    page.get_by_label("Message").fill("Happy birthday, {{ customer_name }}!")
    page.get_by_role("button", name="Save template").click()
    expect(page.get_by_role("alert")).to_contain_text("Template saved.")
    with app_session(app) as session:
        assert session.scalar(select(func.count()).select_from(MessageTemplate)) == 1
