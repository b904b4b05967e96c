"""Loyalty on the cart page through Flask's test client: the desk sees balance, tier and the most
points allowed, applies points and a coupon before payment, and bad choices come back next to their
field with what was typed kept."""

import re

import pytest
from sqlalchemy import select

from crm.auth.models import Role
from crm.database import utcnow
from crm.extensions import db
from crm.loyalty import accounts, ledger
from crm.loyalty.models import Account, Coupon, CouponTemplate
from crm.loyalty.program import update_program
from crm.sales.models import Sale
from crm.shop_time import local_date
from tests import factories
from tests.conftest import csrf_token
from tests.helpers import FormPage, app_session
from tests.sales.test_views import add, add_item

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


@pytest.fixture
def desk(auth):
    return auth.login(Role.FRONT_DESK)


@pytest.fixture
def member_sale(app, client, desk):
    """A cart for a member holding 200 points, with a 400.00 accessory in it."""
    with app_session(app) as session:
        update_program(session, {"welcome_bonus": 0}, actor=None)
        customer = factories.customer(name="Olena Member", phone="+380671110000")
        account = accounts.enrol(session, customer)
        ledger.credit(session, account, "adjust", 200, key="seed", expiry_months=12)
        add_item("CASE-9", "Leather case", 40_000)
        customer_id = customer.id
    token = csrf_token(client, "/sales")
    response = client.post("/sales/new", data={"csrf_token": token, "customer_id": str(customer_id)})
    sale_id = int(re.search(r"/sales/(\d+)$", response.headers["Location"]).group(1))
    assert add(client, sale_id, "CASE-9").status_code == 302
    return sale_id, customer_id


def test_the_cart_shows_balance_tier_most_points_and_points_to_earn(client, member_sale):
    sale_id, _ = member_sale
    page = client.get(f"/sales/{sale_id}").get_data(as_text=True)
    assert re.search(r'id="loyalty-balance">200<', page)
    assert re.search(r'id="loyalty-tier">Bronze<', page)
    assert re.search(r'id="loyalty-max">120<', page)  # 30% of 400.00
    assert "12 points" in page  # 3% of 400.00


def test_points_applied_on_the_cart_lower_the_total_and_are_paid_with_it(app, client, member_sale):
    sale_id, customer_id = member_sale
    response = client.get(f"/sales/{sale_id}?points=100&coupon=")
    assert response.status_code == 200
    values = FormPage(response.get_data(as_text=True)).values
    assert values["expected_total"] == "30000" and values["loyalty_points"] == "100"
    paid = client.post(f"/sales/{sale_id}/pay", data={
        "csrf_token": values["csrf_token"], "key": values["key"], "expected_total": values["expected_total"],
        "loyalty_points": values["loyalty_points"], "loyalty_coupon": "", "pay_0": "300"})
    assert paid.status_code == 302
    receipt = client.get(f"/sales/{sale_id}/receipt").get_data(as_text=True)
    assert "Points spent" in receipt and "Points earned" in receipt and "Points balance" in receipt
    with app.app_context():
        sale = db.session.get(Sale, sale_id)
        assert (sale.points_redeemed, sale.points_earned, sale.total_minor) == (100, 9, 30_000)
        assert db.session.get(Account, customer_id).balance == 200 - 100 + 9


def test_use_maximum_fills_in_the_most_points_allowed(client, member_sale):
    sale_id, _ = member_sale
    values = FormPage(client.get(f"/sales/{sale_id}?use_max=y").get_data(as_text=True)).values
    assert values["loyalty_points"] == "120" and values["expected_total"] == "28000"


def test_too_many_points_come_back_next_to_the_field_with_the_number_kept(client, member_sale):
    sale_id, _ = member_sale
    response = client.get(f"/sales/{sale_id}?points=150")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "At most 120 points can be used on this bill." in page and 'value="150"' in page
    assert FormPage(page).values["expected_total"] == "40000"  # the bill without the refused points


def test_an_unknown_coupon_is_refused_next_to_its_field(client, member_sale):
    sale_id, _ = member_sale
    response = client.get(f"/sales/{sale_id}?coupon=NOPE-123")
    assert response.status_code == 422
    assert "No coupon has this code." in response.get_data(as_text=True)


def test_a_coupon_applies_on_the_cart_and_is_used_at_payment(app, client, member_sale):
    sale_id, _ = member_sale
    with app_session(app) as session:
        template = CouponTemplate(name="Spring", kind="percent", value=1_500, categories="accessory",
                                  min_bill_minor=0, validity_days=30, active=True)
        session.add(template)
        session.flush()
        session.add(Coupon(code="SPRING15", kind="promo", template_id=template.id, usage_limit=10, used_count=0,
                           valid_from=utcnow().replace(year=2020), valid_until=utcnow().replace(year=2099)))
    values = FormPage(client.get(f"/sales/{sale_id}?coupon=spring15").get_data(as_text=True)).values
    assert values["loyalty_coupon"] == "SPRING15" and values["expected_total"] == "34000"
    paid = client.post(f"/sales/{sale_id}/pay", data={
        "csrf_token": values["csrf_token"], "key": values["key"], "expected_total": values["expected_total"],
        "loyalty_points": "0", "loyalty_coupon": "SPRING15", "pay_0": "340"})
    assert paid.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Coupon.used_count).where(Coupon.code == "SPRING15")) == 1


def test_a_tampered_points_field_is_refused_not_a_500(client, member_sale):
    sale_id, _ = member_sale
    values = FormPage(client.get(f"/sales/{sale_id}").get_data(as_text=True)).values
    for garbage in ("-5", "abc", "99999999999999", "1e3", "²", "①", "٣", "１２", "1_0"):  # ASCII digits only
        response = client.post(f"/sales/{sale_id}/pay", data={
            "csrf_token": values["csrf_token"], "key": values["key"], "expected_total": values["expected_total"],
            "loyalty_points": garbage, "loyalty_coupon": "", "pay_0": "400"})
        assert response.status_code == 422, garbage


def test_a_promo_code_made_in_the_settings_is_taken_at_the_cart_as_printed(app, client, auth, member_sale):
    sale_id, _ = member_sale
    with app_session(app) as session:
        template = CouponTemplate(name="Spring", kind="percent", value=1_500, categories="accessory",
                                  min_bill_minor=0, validity_days=30, active=True)
        session.add(template)
        session.flush()
        template_id = template.id
    auth.logout()
    auth.login("manager")  # a manager may also work the desk
    with app.app_context():
        today = local_date(utcnow())  # the shop's day: a coupon is valid by the shop's calendar, not UTC's
    created = client.post("/loyalty/coupons/promo/new", data={
        "csrf_token": csrf_token(client, "/loyalty/coupons/promo/new"), "template_id": str(template_id),
        "code": "Spring-Sale-2026", "usage_limit": "5", "valid_from": str(today), "valid_until": str(today)})
    assert created.status_code == 302
    for typed in ("Spring-Sale-2026", "spring sale 2026", "SPRINGSALE2026"):
        values = FormPage(client.get(f"/sales/{sale_id}?coupon={typed}").get_data(as_text=True)).values
        assert values["loyalty_coupon"] == "SPRINGSALE2026" and values["expected_total"] == "34000", typed
