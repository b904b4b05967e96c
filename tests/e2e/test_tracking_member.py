"""A member opens their repair's private link on a phone and reads their points, tier progress and coupon on the
same page, in a real browser."""

from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect

from crm.extensions import db
from crm.loyalty import accounts, coupons, ledger
from crm.loyalty.models import Activity, CouponTemplate
from crm.loyalty.program import update_program
from crm.orders.tracking import PATH
from tests import factories
from tests.e2e.conftest import PHONE


def _a_member_with_a_repair_in_progress(app) -> tuple[str, str, str]:
    """Iryna: 180 points (40 of them expire in five days), 2,000.00 paid over two repairs this year, a personal
    coupon; returns (tracking path, coupon code, referral code)."""
    now = datetime.now(UTC)
    with app.app_context():
        update_program(db.session, {"welcome_bonus": 0}, actor=None)
        customer = factories.customer(name="Iryna Bondar", phone="+380509876500", email="iryna@example.com")
        account = accounts.enrol(db.session, customer, now=now - timedelta(days=400))
        ledger.credit(db.session, account, "earn", 40, key="e2e-old", now=now - timedelta(days=360), expiry_months=12)
        ledger.credit(db.session, account, "earn", 140, key="e2e-new", now=now - timedelta(days=30), expiry_months=12)
        for n, days in enumerate((200, 30)):
            db.session.add(Activity(customer_id=customer.id, at=now - timedelta(days=days), spend_minor=100_000,
                                    repairs=1, reference=f"e2e-sale:{n}"))
        template = CouponTemplate(name="15% off accessories", kind="percent", value=1500, categories="accessory",
                                  min_bill_minor=0, validity_days=30, active=True)
        db.session.add(template)
        db.session.flush()
        coupon = coupons.issue_personal(db.session, template, customer.id, issued_for="e2e-sale:1",
                                        now=now - timedelta(days=30 - 1))
        order = factories.order(customer, brand="Samsung", model="Galaxy S21")
        found = PATH + order.tracking_token, coupon.code, account.referral_code
        db.session.commit()
        db.session.remove()
    return found


def test_a_member_reads_balance_tier_progress_and_coupon_on_a_phone(app, page: Page, live_server, artifacts):
    path, coupon_code, referral_code = _a_member_with_a_repair_in_progress(app)
    phone = page.context.browser.new_context(base_url=live_server, viewport=PHONE, locale="en-GB")
    try:
        customer = phone.new_page()
        customer.set_default_timeout(5_000)
        customer.goto(path)
        expect(customer.get_by_role("heading", name="Status: Received")).to_be_visible()

        points = customer.get_by_role("region", name="Iryna, your bonus points")
        points.scroll_into_view_if_needed()
        expect(points).to_be_visible()
        expect(points.locator("#member-balance")).to_have_text("180 points worth UAH180.00 at the desk")
        expect(points.locator("#member-expiring")).to_contain_text("40 points expire on")
        expect(points.get_by_role("heading", name="Your tier: Bronze")).to_be_visible()
        expect(points.locator("#member-next-tier")).to_have_text(
            "Over the last 12 months: UAH2,000.00 paid and 2 paid repairs. "
            "For Silver: pay UAH3,000.00 more or have 1 more repair within 12 months.")
        expect(points.locator("#member-coupons")).to_contain_text(coupon_code)
        expect(points.locator("#member-coupons")).to_contain_text("15% off accessories: 15% off.")
        expect(points.locator("#member-referral")).to_contain_text(referral_code)
        for secret in ("Bondar", "iryna@example.com", "509876500"):
            expect(customer.locator("body")).not_to_contain_text(secret)

        width = customer.evaluate("() => document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page scrolls sideways on a phone ({width}px)"
        customer.screenshot(path=str(artifacts / "tracking_member_phone.png"), full_page=True)
    finally:
        phone.close()
