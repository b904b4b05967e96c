"""The customer's tracking page (/t/<token>): what the customer sees without logging in, and what they never
see. Data is set up in its own app context and committed, as in the other view tests."""

import secrets
from datetime import UTC, datetime, timedelta

import pytest

from crm import create_app
from crm.auth.models import Role
from crm.extensions import db
from crm.loyalty import accounts, coupons, ledger
from crm.loyalty.models import CouponTemplate
from crm.orders import service
from crm.orders.models import RepairOrder
from tests import factories
from tests.helpers import app_session


def _order(app, *, statuses=(), lines=(), **fields):
    """A committed repair moved through ``statuses``; returns (order id, tracking token)."""
    with app_session(app) as session:
        manager = factories.staff(role=Role.MANAGER)
        customer = factories.customer(language=fields.pop("language", "en"))
        order = factories.order(customer, created_by=manager, **fields)
        for description, price in lines:
            service.add_line(session, order, kind="labour", description=description, quantity=1,
                             unit_price_minor=price, actor=manager)
        for status in statuses:
            service.change_status(session, order, status, actor=manager, note="internal: customer was rude")
        return order.id, order.tracking_token


def test_the_customer_follows_the_repair_without_logging_in(app, client):
    _, token = _order(app, statuses=["diagnosing", "awaiting_approval"],
                      lines=[("Screen replacement", 150000), ("Diagnostics", 20000)])
    response = client.get(f"/t/{token}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Awaiting approval" in html and "We need your go-ahead for the repair and its price." in html
    assert "Apple iPhone 12" in html
    assert "Screen replacement" in html and "1,700.00" in html  # the quote's total
    assert html.count("<li>") >= 3  # received, diagnosing, awaiting approval in the history
    assert 'aria-current="step"' in html
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "noindex" in response.headers["X-Robots-Tag"]


def test_staff_only_details_never_reach_the_customers_page(app, client):
    with app_session(app) as session:
        technician = factories.staff(role=Role.TECHNICIAN, full_name="Taras Bench")
        customer = factories.customer(name="Olena Private", email="olena@example.com")
        order = factories.order(customer, imei="490154203237518", serial_number="SN-SECRET-1",
                                condition="Dent on the back", technician_id=technician.id)
        service.change_status(session, order, "diagnosing", actor=technician, note="internal: water damage, lies")
        token, phone = order.tracking_token, customer.phone
    html = client.get(f"/t/{token}").get_data(as_text=True)
    for secret in ("Taras Bench", "490154203237518", "SN-SECRET-1", "Dent on the back", "internal:", "Olena Private",
                   "olena@example.com", phone, phone[-7:]):
        assert secret not in html, secret


def test_what_the_shop_typed_is_escaped(app, client):
    _, token = _order(app, brand="<script>alert(1)</script>", lines=[("<b>bold</b>", 100)])
    html = client.get(f"/t/{token}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "<b>bold</b>" not in html


@pytest.mark.parametrize("token", ["not-a-token", secrets.token_urlsafe(24), "x" * 65, "Ωmega", "%00", "' OR 1=1",
                                   "abc%00def", "abc\u0000def"])
def test_a_wrong_or_damaged_link_gets_a_friendly_not_found(app, client, token):
    _order(app)
    response = client.get(f"/t/{token}")
    assert response.status_code == 404
    assert "This link is not valid" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"


def test_ready_picked_up_and_cancelled_read_as_such(app, client):
    _, ready = _order(app, statuses=["diagnosing", "in_repair", "ready"])
    assert "Your device is ready. Bring your receipt to collect it." in client.get(f"/t/{ready}").get_data(as_text=True)
    _, cancelled = _order(app, statuses=["cancelled"])
    html = client.get(f"/t/{cancelled}").get_data(as_text=True)
    assert "This repair was cancelled." in html and 'aria-current="step"' not in html


def test_a_collected_repair_shows_its_warranty(app, client):
    order_id, token = _order(app, statuses=["diagnosing", "in_repair", "ready"], warranty_days=90)
    with app_session(app) as session:  # as checkout leaves it (picked up is reached only through checkout)
        order = session.get(RepairOrder, order_id)
        order.status, order.closed_at = "picked_up", datetime(2026, 3, 1, 10, tzinfo=UTC)
    html = client.get(f"/t/{token}").get_data(as_text=True)
    assert "You collected your device." in html
    assert "Warranty until" in html and (datetime(2026, 3, 1).date() + timedelta(days=90)).isoformat() in html


def test_the_page_runs_the_same_few_queries_however_long_the_repair(app, client, count_queries):
    _, short = _order(app, lines=[("Diagnostics", 100)])
    _, long = _order(app, statuses=["diagnosing", "awaiting_parts", "in_repair", "ready"],
                     lines=[(f"Work {n}", 100) for n in range(12)])
    client.get(f"/t/{short}")
    with count_queries() as few:
        client.get(f"/t/{short}")
    with count_queries() as many:
        assert client.get(f"/t/{long}").status_code == 200
    assert few.count == many.count <= 3 + 1  # the repair, its lines, its history; and "is this a member?"


def test_a_members_page_runs_the_same_few_queries_however_many_coupons_and_points(app, client, count_queries):
    def member_order(lots: int, coupon_count: int) -> str:
        now = datetime.now(UTC)
        with app_session(app) as session:
            customer = factories.customer()
            account = accounts.enrol(session, customer)
            template = CouponTemplate(name=f"Coupon {customer.id}", kind="fixed", value=1000, validity_days=30)
            session.add(template)
            session.flush()
            for n in range(lots):
                ledger.credit(session, account, "earn", 10, key=f"lot:{customer.id}:{n}",
                              now=now - timedelta(days=364, hours=n), expiry_months=12)
            for n in range(coupon_count):
                coupons.issue_personal(session, template, customer.id, issued_for=f"sale:{n}", now=now)
            return factories.order(customer).tracking_token

    few, many = member_order(lots=0, coupon_count=1), member_order(lots=15, coupon_count=12)
    client.get(f"/t/{few}")
    with count_queries() as one:
        client.get(f"/t/{few}")
    with count_queries() as fifteen:
        html = client.get(f"/t/{many}").get_data(as_text=True)
    assert "150 points expire" in html and html.count("<code") == 12 + 1  # the coupons and the referral code
    assert one.count == fifteen.count <= 3 + 6  # the repair (3) and the membership (6)


def test_the_page_speaks_the_customers_language(ukrainian_app, app):
    _, token = _order(app, statuses=["diagnosing", "in_repair", "ready"], language="uk")
    html = ukrainian_app.test_client().get(f"/t/{token}").get_data(as_text=True)
    assert "Готово до видачі" in html and "Ваш пристрій готовий." in html
    assert '<html lang="uk">' in html


def test_the_page_is_rate_limited_per_address(app):
    """The limiter is module-global: init_app for a second app rebinds it to a fresh in-memory storage, so this
    app starts counting at zero (and the shared app's limit of 1000/minute is not in the way)."""
    _, token = _order(app)
    limited = create_app("test", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                         TRACKING_RATE_LIMIT="3 per minute")
    try:
        client = limited.test_client()
        assert [client.get(f"/t/{token}").status_code for _ in range(3)] == [200, 200, 200]
        assert client.get(f"/t/{token}").status_code == 429
        assert client.get("/t/guess").status_code == 429  # guessing counts against the same budget
    finally:
        with limited.app_context():
            db.session.remove()
            db.engine.dispose()

