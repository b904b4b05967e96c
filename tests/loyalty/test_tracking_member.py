"""The member's section of the customer's own page (/t/<token>): points, tier, coupons and referral code, through
Flask's test client; and what it never shows."""

from datetime import UTC, datetime, timedelta

from crm.auth.models import Role
from crm.loyalty import accounts, coupons, ledger
from crm.loyalty.models import Activity, CouponTemplate
from crm.loyalty.program import tiers, update_program
from crm.money import format_money
from tests import factories
from tests.helpers import app_session


def _member_with_a_repair(app, *, language="en", name="Olena Shevchenko"):
    """A Silver member with 240 points (30 expiring in a week), one paid repair of 1,200.00 this year, a coupon and
    a repair; returns (tracking token, referral code, coupon code, phone)."""
    now = datetime.now(UTC)
    with app_session(app) as session:
        update_program(session, {"welcome_bonus": 0}, actor=None)
        manager = factories.staff(role=Role.MANAGER, full_name="Marta Manager")
        customer = factories.customer(name=name, email="olena@example.com", notes="Pays late, be firm",
                                      language=language)
        account = accounts.enrol(session, customer, actor=manager, now=now - timedelta(days=100))
        account.tier_id = next(t.id for t in tiers(session) if t.name == "Silver")  # kept until the review
        ledger.credit(session, account, "earn", 30, key="old", reason="Old repair", now=now - timedelta(days=358),
                      expiry_months=12)
        ledger.credit(session, account, "adjust", 210, key="goodwill", reason="Sorry for the wait, internal",
                      actor=manager, now=now - timedelta(days=3), expiry_months=12)
        session.add(Activity(customer_id=customer.id, at=now - timedelta(days=20), spend_minor=120_000, repairs=1,
                             reference="sale:earlier"))
        template = CouponTemplate(name="15% off accessories", kind="percent", value=1500, categories="accessory",
                                  min_bill_minor=50_000, validity_days=30, active=True)
        session.add(template)
        session.flush()
        coupon = coupons.issue_personal(session, template, customer.id, issued_for="sale:earlier", actor=manager,
                                        now=now - timedelta(days=2))
        order = factories.order(customer, created_by=manager)
        return order.tracking_token, account.referral_code, coupon.code, customer.phone


def test_a_member_reads_points_tier_progress_coupons_and_referral_code_on_their_page(app, client):
    token, referral_code, coupon_code, _ = _member_with_a_repair(app)
    html = client.get(f"/t/{token}").get_data(as_text=True)
    assert "Olena, your bonus points" in html
    assert "240 points" in html and "worth UAH240.00 at the desk" in html
    assert "30 points expire on" in html
    assert "Your tier: Silver" in html and "Points x1.25 on what you pay" in html and "5% off accessories" in html
    assert "Free diagnostics" not in html
    assert "UAH1,200.00 paid and 1 paid repair." in html
    assert "For Gold: pay UAH13,800.00 more or have 5 more repairs within 12 months." in html
    assert coupon_code in html and "15% off" in html and "on a bill of at least UAH500.00" in html
    assert "Valid until" in html
    assert referral_code in html and "gets 50 points, and you get 100 points" in html


def test_the_members_section_shows_nothing_that_identifies_them_beyond_the_first_name(app, client):
    token, _, _, phone = _member_with_a_repair(app)
    html = client.get(f"/t/{token}").get_data(as_text=True)
    for secret in ("Shevchenko", "olena@example.com", "Pays late", phone, phone[-7:], "Marta Manager",
                   "Sorry for the wait", "Old repair"):
        assert secret not in html, secret


def test_a_customer_who_is_not_a_member_sees_no_points_section(app, client):
    with app_session(app):
        token = factories.order(factories.customer()).tracking_token
    html = client.get(f"/t/{token}").get_data(as_text=True)
    assert client.get(f"/t/{token}").status_code == 200
    assert 'id="member"' not in html and "bonus points" not in html


def test_the_members_money_is_written_the_customers_way(ukrainian_app, app):
    token, _, _, _ = _member_with_a_repair(app, language="uk")
    html = ukrainian_app.test_client().get(f"/t/{token}").get_data(as_text=True)
    assert '<html lang="uk">' in html
    assert format_money(24_000, "UAH", "uk") in html and format_money(1_380_000, "UAH", "uk") in html


def test_a_members_name_is_escaped(app, client):
    token, _, _, _ = _member_with_a_repair(app, name="<b>Olena</b> Shevchenko")
    html = client.get(f"/t/{token}").get_data(as_text=True)
    assert "<b>Olena</b>" not in html and "&lt;b&gt;Olena&lt;/b&gt;, your bonus points" in html
