"""A member collects a repair in a real browser: the desk sees the balance, applies points and the
customer's personal coupon, takes payment, and the receipt shows points spent, earned and the new
balance."""

import re

from playwright.sync_api import Page, expect
from sqlalchemy import select

from crm.extensions import db
from crm.loyalty import accounts, coupons, ledger
from crm.loyalty.models import Account, CouponTemplate
from crm.loyalty.program import update_program
from crm.orders import service as order_service
from crm.orders.status import Status
from crm.sales.models import Sale
from tests import factories
from tests.e2e.conftest import assert_every_field_labelled
from tests.e2e.test_checkout import _stock_the_shop


def test_a_member_pays_a_repair_with_points_and_a_coupon_and_reads_the_receipt(app, page: Page, staff_user, login,
                                                                               artifacts):
    _stock_the_shop(app)
    with app.app_context():
        update_program(db.session, {"welcome_bonus": 0}, actor=None)
        customer = factories.customer(name="Iryna Bondar", phone="+380509876543")
        account = accounts.enrol(db.session, customer)
        ledger.credit(db.session, account, "adjust", 200, key="e2e-seed", reason="Opening balance", expiry_months=12)
        template = CouponTemplate(name="15% off accessories", kind="percent", value=1500, categories="accessory",
                                  min_bill_minor=0, validity_days=30, active=True)
        db.session.add(template)
        db.session.flush()
        code = coupons.issue_personal(db.session, template, customer.id, issued_for="e2e").code
        order = factories.order(customer, brand="Apple", model="iPhone 11")
        order_service.add_line(db.session, order, kind="labour", description="Screen replacement", quantity=1,
                               unit_price_minor=120000, actor=None)
        order.status = Status.READY.value
        number, customer_id = order.number, customer.id
        db.session.commit()
        db.session.remove()
    staff_user("front_desk", "desk-loyalty", "Marta Desk")
    login("desk-loyalty")

    page.goto(f"/orders?q={number}")
    page.get_by_role("link", name=number).click()
    page.get_by_role("button", name="Check out and hand back").click()
    expect(page.locator("#loyalty-balance")).to_have_text("200")
    expect(page.locator("#loyalty-coupons")).to_contain_text(code)
    page.get_by_label("SKU or barcode").fill("CASE-11")
    page.get_by_role("button", name="Add to bill").click()
    expect(page.locator("#amount-due")).to_have_text("UAH1,550.00")

    page.get_by_label("Points to use").fill("100")
    page.get_by_label("Coupon or promo code").fill(code)
    page.get_by_role("button", name="Apply to the bill").click()
    expect(page.locator("#amount-due")).to_have_text("UAH1,397.50")  # 1550.00 - 15% of 350.00 - 100 points
    expect(page.locator("#applied-loyalty")).to_contain_text("100 points applied")
    assert_every_field_labelled(page)
    page.screenshot(path=str(artifacts / "checkout_loyalty_cart.png"), full_page=True)

    page.get_by_label("Card").fill("1397.50")
    page.get_by_role("button", name="Take payment").click()
    expect(page.get_by_role("heading", name=re.compile(r"Sale S-\d+"))).to_be_visible()
    with app.app_context():
        balance = db.session.get(Account, customer_id).balance
        sale = db.session.scalars(select(Sale).where(Sale.status == "paid")).one()
        earned = sale.points_earned
        db.session.remove()
    assert earned > 0 and balance == 200 - 100 + earned

    page.get_by_role("link", name="Receipt (A4)").click()
    summary = page.locator("#points-summary")
    expect(summary.get_by_role("row", name=re.compile("Points spent"))).to_contain_text("100")
    expect(summary.get_by_role("row", name=re.compile("Points earned"))).to_contain_text(str(earned))
    expect(summary.get_by_role("row", name=re.compile("Points balance"))).to_contain_text(str(balance))
    expect(summary.get_by_role("row", name=re.compile("Coupon used"))).to_contain_text(code)
    page.screenshot(path=str(artifacts / "receipt_loyalty.png"), full_page=True)
