"""The manager's privacy day in a real browser: a customer asks for their data, then to be forgotten. The manager
downloads the export, erases the customer after typing their phone number, no longer finds them by name or phone,
and the day's sales totals are the same as before."""

import json
import zipfile

from playwright.sync_api import Page, expect

from crm.auth.models import Role
from crm.extensions import db
from crm.sales import checkout
from tests import factories
from tests.factories import sales as shop

NAME, PHONE = "Zinaida Forgetme", "+380671170007"


def _customer_with_a_sale_today(app) -> int:
    with app.app_context():
        desk = shop.staff_member(db.session, Role.FRONT_DESK)
        customer = factories.customer(name=NAME, phone=PHONE, email="zina@example.com")
        item = shop.new_item(db.session, price_minor=45_000, on_hand=3)
        sale = checkout.open_sale(db.session, actor=desk, customer=customer)
        checkout.add_item(db.session, sale, item, 1)
        shop.pay(db.session, sale.id, actor=desk)
        db.session.commit()
        customer_id = customer.id
        db.session.remove()
    return customer_id


def _search(page: Page, text: str):
    page.get_by_role("navigation").get_by_role("link", name="Customers").click()
    page.get_by_label("Find a customer by phone, name or e-mail").fill(text)
    page.get_by_role("button", name="Search").click()


def test_the_manager_exports_and_erases_a_customer(page: Page, app, staff_user, login, tmp_path):
    _customer_with_a_sale_today(app)
    staff_user("manager", "privacy-boss")
    login("privacy-boss")
    page.goto("/sales/end-of-day")
    totals_before = page.locator("#totals").inner_text()
    assert "450.00" in totals_before

    _search(page, "Forgetme")
    page.get_by_role("link", name=NAME).click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Export all data of this customer (ZIP)").click()
    archive = tmp_path / "export.zip"
    download.value.save_as(archive)
    with zipfile.ZipFile(archive) as exported:
        document = json.loads(exported.read("customer.json"))
    assert document["sections"]["profile"][0]["name"] == NAME and document["sections"]["sales"]

    page.get_by_role("link", name="Erase this customer…").click()
    page.get_by_label("Type the customer's phone number to confirm").fill("067 117 0008")  # a wrong number
    page.get_by_role("button", name="Erase the personal data").click()
    expect(page.get_by_text("This is not the customer's phone number.")).to_be_visible()
    page.get_by_label("Type the customer's phone number to confirm").fill("067 117 0007")
    page.get_by_role("button", name="Erase the personal data").click()
    expect(page.get_by_text("The customer's personal data is erased.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Erased customer")

    for typed in ("Forgetme", "0671170007"):
        _search(page, typed)
        expect(page.get_by_role("link", name=NAME)).to_have_count(0)
    page.goto("/sales/end-of-day")
    assert page.locator("#totals").inner_text() == totals_before
