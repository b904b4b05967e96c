"""Coupons in the Loyalty report: issued and used per kind, the discount, and the bills that used one."""

from datetime import date
from zoneinfo import ZoneInfo

from crm.loyalty.models import Coupon, CouponTemplate, CouponUse
from crm.reports import coupons, display, period
from tests import factories
from tests.reports import shop

KYIV = ZoneInfo("Europe/Kyiv")
MARCH = period.make("custom", date(2026, 3, 1), date(2026, 3, 31), KYIV)


def _coupon(session, template, kind, code, created, customer=None):
    row = Coupon(code=code, kind=kind, template_id=template.id, customer_id=customer.id if customer else None,
                 usage_limit=1 if kind == "personal" else 5, valid_from=shop.at(created),
                 valid_until=shop.at("2026-12-31T00:00"), created_at=shop.at(created))
    session.add(row)
    session.flush()
    return row


def _used(session, coupon, sale, amount, when):
    sale.coupon_code = coupon.code
    session.add(CouponUse(coupon_id=coupon.id, customer_id=sale.customer_id, reference=f"sale:{sale.id}",
                          amount_minor=amount, used_at=shop.at(when)))
    session.flush()


def test_coupons_issued_used_and_their_bills(session):
    template = CouponTemplate(name="Ten off", kind="percent", value=1000, categories="accessory", min_bill_minor=0,
                              validity_days=30, active=True)
    session.add(template)
    session.flush()
    anna, chris = factories.customer(), factories.customer()
    personal = _coupon(session, template, "personal", "P-1", "2026-03-02T10:00", anna)
    promo = _coupon(session, template, "promo", "SPRING", "2026-02-20T10:00")
    with_personal = shop.sale(session, anna, 30_000, shop.at("2026-03-20T10:00"))
    _used(session, personal, with_personal, 1_000, "2026-03-20T10:00")
    _used(session, promo, shop.sale(session, chris, 8_000, shop.at("2026-03-15T10:00")), 500, "2026-03-15T10:00")
    shop.sale(session, chris, 4_000, shop.at("2026-03-16T10:00"))  # no coupon: not counted
    shop.refund(session, with_personal, 5_000, shop.at("2026-03-25T10:00"))
    february = period.previous(MARCH, KYIV)
    now = coupons.coupon_figures(session, MARCH.start_utc, MARCH.end_utc)
    before = coupons.coupon_figures(session, february.start_utc, february.end_utc)
    assert (now.issued, now.used) == ({"personal": 1, "promo": 0}, {"personal": 1, "promo": 1})
    assert (now.discount_minor, now.bills, now.paid_minor, now.net_minor) == (1_500, 2, 38_000, 33_000)
    assert (before.issued["promo"], before.bills, before.discount_minor) == (1, 0, 0)
    rows = {row.key: (row.value, row.previous, row.change) for row in display.coupons_table(now, before)}
    assert rows["issued_promo"] == (0, 1, -1) and rows["revenue"] == (33_000, 0, 33_000)
