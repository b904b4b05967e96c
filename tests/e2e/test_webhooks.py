"""The manager in a real browser adds a webhook for a loopback receiver, copies the secret shown once, and sees the
delivery of an order that became ready, signed with that secret."""

from playwright.sync_api import Page, expect

from crm.webhooks.delivery import deliver
from tests.e2e.conftest import assert_every_field_labelled
from tests.factories import sales as sale_factories
from tests.helpers import app_session
from tests.notifications.conftest import http_recorder  # noqa: F401 - the loopback receiver
from tests.webhooks.conftest import headers_of, verify


def test_manager_adds_a_webhook_and_sees_it_delivered(app, page: Page, staff_user, login,
                                                      http_recorder):  # noqa: F811
    staff_user("manager", "boss-hook", "Hook Boss")
    login("boss-hook")
    page.get_by_role("navigation").get_by_role("link", name="Webhooks").click()
    expect(page.get_by_role("heading", name="Webhooks")).to_be_visible()
    assert_every_field_labelled(page)
    page.get_by_label("Address (URL) that receives the events").fill(http_recorder.url + "/hook")
    page.get_by_label("A repair order is ready for pickup").check()
    page.get_by_role("button", name="Add the endpoint").click()
    expect(page.get_by_role("alert")).to_contain_text("not shown again")
    secret = page.locator("#new-secret").input_value()
    assert secret.startswith("whsec_")

    with app_session(app) as session:
        order_number = sale_factories.ready_order(session).number
    with app_session(app) as session:
        assert deliver(session).sent == 1
    [request] = http_recorder.requests
    assert request.json["data"]["order"]["number"] == order_number
    assert verify(secret, headers_of(request), request.body)

    page.get_by_role("link", name=http_recorder.url + "/hook").click()
    row = page.locator("#webhook-deliveries tbody tr").first
    expect(row).to_contain_text("order.ready")
    expect(row).to_contain_text("Delivered")
    expect(page.locator("#new-secret")).to_have_count(0)  # never shown again
