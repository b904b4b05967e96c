"""The front desk's checkout in a real browser: a walk-in buys accessories for cash, a known customer
collects a finished repair and buys a charger with a split payment; both receipts print on one page."""

import re

from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from crm.catalogue import service as catalogue
from crm.catalogue.models import ItemCategory
from crm.extensions import db
from crm.orders import service as order_service
from crm.orders.models import RepairOrder
from crm.orders.status import Status
from crm.sales.models import Payment
from tests import factories
from tests.e2e.conftest import assert_every_field_labelled
from tests.e2e.test_front_desk import _pdf_page_size, _pdf_pages


def _stock_the_shop(app) -> None:
    with app.app_context():
        category_id = db.session.scalar(select(ItemCategory.id).where(ItemCategory.code == "accessory"))
        for sku, name, price in [("CASE-11", "Silicone case iPhone 11", 35000),
                                 ("GLASS-11", "Screen protector iPhone 11", 25000),
                                 ("CHG-20W", "Charger 20 W USB-C", 79900)]:
            item = catalogue.create_item(db.session, catalogue.ItemData(sku=sku, name=name, category_id=category_id,
                                                                        price_minor=price))
            catalogue.receive_stock(db.session, item, 5, actor=None)
        db.session.commit()
        db.session.remove()


def _print_checks(page: Page, artifacts, name: str) -> None:
    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    path = artifacts / f"{name}.pdf"
    if "80mm" in page.url:
        page.pdf(path=str(path), width="80mm", height="250mm")
        assert _pdf_pages(path) == 1, f"{name} should fit on 25 cm of roll"
    else:
        page.pdf(path=str(path), prefer_css_page_size=True)
        assert _pdf_pages(path) == 1, f"{name} should fit on one page"
        assert _pdf_page_size(path) == (595, 842)
    page.emulate_media(media="screen")


def test_a_walk_in_buys_a_case_and_a_screen_protector(app, page: Page, staff_user, login, artifacts):
    _stock_the_shop(app)
    staff_user("front_desk", "desk-sales", "Sofia Desk")
    login("desk-sales")
    page.get_by_role("navigation").get_by_role("link", name="Sales").click()
    page.get_by_role("button", name="New sale").click()
    expect(page.get_by_role("heading", name="New sale")).to_be_visible()
    assert_every_field_labelled(page)

    # A barcode scanner types the SKU into the field.
    page.get_by_label("SKU or barcode").fill("CASE-11")
    page.get_by_role("button", name="Add to bill").click()
    expect(page.get_by_role("alert")).to_contain_text("Silicone case iPhone 11 added.")
    # The other item found by name.
    page.get_by_label("Find in the catalogue").fill("protector")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("button", name="Add Screen protector iPhone 11").click()
    expect(page.locator("#amount-due")).to_have_text("UAH600.00")

    page.get_by_label("Cash received").fill("1000")
    page.get_by_role("button", name="Take payment").click()
    expect(page.get_by_role("heading", name=re.compile(r"Sale S-\d+"))).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("UAH400.00")
    page.screenshot(path=str(artifacts / "sale_walk_in.png"), full_page=True)

    page.get_by_role("link", name="Receipt (80 mm)").click()
    expect(page.get_by_text("Screen protector iPhone 11")).to_be_visible()
    expect(page.get_by_text("Change", exact=True)).to_be_visible()
    _print_checks(page, artifacts, "sale_receipt_80mm")


def test_a_customer_collects_a_repair_and_buys_a_charger_with_a_split_payment(app, page: Page, staff_user, login,
                                                                           artifacts):
    _stock_the_shop(app)
    with app.app_context():
        customer = factories.customer(name="Taras Melnyk", phone="+380501234567")
        order = factories.order(customer, brand="Apple", model="iPhone 11")
        order_service.add_line(db.session, order, kind="labour", description="Battery replacement", quantity=1,
                               unit_price_minor=40000, actor=None)
        order_service.add_line(db.session, order, kind="part", description="Battery iPhone 11", quantity=1,
                               unit_price_minor=90000, actor=None)
        order.status = Status.READY.value
        order_id, number = order.id, order.number
        db.session.commit()
        db.session.remove()
    staff_user("front_desk", "desk-pickup", "Petro Desk")
    login("desk-pickup")
    page.goto(f"/orders?q={number}")
    page.get_by_role("link", name=number).click()
    page.get_by_role("button", name="Check out and hand back").click()
    expect(page.get_by_role("heading", name=f"Checkout of order {number}")).to_be_visible()
    expect(page.get_by_text("Taras Melnyk")).to_be_visible()
    page.get_by_label("SKU or barcode").fill("CHG-20W")
    page.get_by_role("button", name="Add to bill").click()
    expect(page.locator("#amount-due")).to_have_text("UAH2,099.00")
    assert_every_field_labelled(page)
    page.screenshot(path=str(artifacts / "checkout_repair_cart.png"), full_page=True)

    page.get_by_label("Cash received").fill("500")
    page.get_by_label("Card").fill("1599")
    # An impatient double click still pays once.
    page.get_by_role("button", name="Take payment").dblclick()
    expect(page.get_by_role("heading", name=re.compile(r"Sale S-\d+"))).to_be_visible()
    with app.app_context():
        assert db.session.get(RepairOrder, order_id).status == "picked_up"
        assert db.session.scalar(select(func.count(Payment.id))) == 2
        db.session.remove()

    page.get_by_role("link", name="Receipt (A4)").click()
    expect(page.get_by_role("img", name="QR code of your tracking link")).to_be_visible()
    expect(page.get_by_text("Battery replacement")).to_be_visible()
    expect(page.get_by_text("Charger 20 W USB-C")).to_be_visible()
    _print_checks(page, artifacts, "sale_receipt_a4")
    page.get_by_role("link", name="80 mm").click()
    _print_checks(page, artifacts, "sale_receipt_repair_80mm")
