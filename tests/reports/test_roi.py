"""The program's cost and the ROI estimate on bills paid through the real checkout (tier discount, coupon and
points as the checkout stores them), and the estimate's arithmetic on hand-made figures."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from crm.auth.models import Role
from crm.reports import display, headline, loyalty, period, roi
from crm.sales.loyalty import LoyaltyRequest
from tests import factories
from tests.factories.sales import new_item, pay, staff_member
from tests.reports.shop import at
from tests.sales.test_checkout_loyalty import cart, coupon, member, repair_sale

KYIV = ZoneInfo("Europe/Kyiv")
JUNE = period.make("custom", date(2026, 6, 1), date(2026, 6, 30), KYIV)
MAY = period.previous(JUNE, KYIV)
NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def june(session):
    """Members: a Silver member's accessory bill of 400.00 with 5% tier discount (20.00), a fixed coupon (50.00)
    and 90 points (90.00; the cap is 30% of 330.00) = 240.00; another member's repair of 1200.00 paid at 00:30
    on 1 June in Kyiv. Non-members: a walk-in's 400.00 and a customer's 200.00. On 31 May in Kyiv a member
    spends 50 points."""
    desk = staff_member(session, Role.FRONT_DESK)
    silver = member(session, 500, tier="Silver")
    case = new_item(session, price_minor=40_000, on_hand=10)
    coupon(session, kind="fixed", value=5_000)
    first = pay(session, cart(session, desk, silver, (case, 1)).id, actor=desk,
                loyalty=LoyaltyRequest(points=90, coupon_code="SPRING"), now=NOW)
    other = member(session, 300)
    pay(session, repair_sale(session, desk, other).id, actor=desk, now=at("2026-05-31T21:30"))
    late_may = pay(session, cart(session, desk, other, (case, 1)).id, actor=desk, loyalty=LoyaltyRequest(points=50),
                   now=at("2026-05-31T20:30"))
    pay(session, cart(session, desk, None, (case, 1)).id, actor=desk, now=NOW)
    small = new_item(session, price_minor=20_000, on_hand=1)
    pay(session, cart(session, desk, factories.customer(), (small, 1)).id, actor=desk, now=NOW + timedelta(days=3))
    return first, late_may


def test_the_cost_splits_into_points_tier_and_coupon_as_the_checkout_gave_them(session, june):
    first, late_may = june
    assert first.total_minor == 24_000 and first.points_redeemed == 90 and late_may.points_redeemed == 50
    cost = roi.program_cost(session, JUNE.start_utc, JUNE.end_utc, point_value_minor=100)
    assert (cost.points_redeemed, cost.points_minor, cost.tier_minor, cost.coupon_minor) == (90, 9_000, 2_000, 5_000)
    assert cost.total_minor == cost.reductions_minor == 16_000
    may = roi.program_cost(session, MAY.start_utc, MAY.end_utc, point_value_minor=100)
    assert (may.points_redeemed, may.tier_minor, may.coupon_minor, may.total_minor) == (50, 0, 0, 5_000)


def test_the_roi_estimate_of_june(session, june):
    figures = loyalty.figures(session, JUNE.start_utc, JUNE.end_utc, active_days=90)
    cost = roi.program_cost(session, JUNE.start_utc, JUNE.end_utc, point_value_minor=figures.point_value_minor)
    e = roi.estimate(figures, cost)
    assert (e.member_revenue_minor, e.member_sales) == (144_000, 2)
    assert (e.member_check, e.other_check) == (Decimal(72_000), Decimal(30_000))
    assert e.incremental_minor == (72_000 - 30_000) * 2 == 84_000
    assert e.roi == Decimal(84_000 - 16_000) / Decimal(16_000)
    assert display.show("rate", e.roi) == "425.0 %"
    assert e.cost_share == Decimal(16_000) / Decimal(144_000)


def test_the_headline_counts_paid_repairs_in_the_shop_days(session, june):
    assert headline.paid_repairs(session, JUNE.start_utc, JUNE.end_utc) == 1  # 00:30 on 1 June in Kyiv
    assert headline.paid_repairs(session, MAY.start_utc, MAY.end_utc) == 0


def _figures(member_sales, member_net, other_sales, other_net) -> loyalty.Figures:
    f = loyalty.Figures(point_value_minor=100)
    f.members.sales, f.members.paid_minor = member_sales, member_net
    f.others.sales, f.others.paid_minor = other_sales, other_net
    return f


def test_members_spending_less_than_non_members_is_a_negative_return():
    e = roi.estimate(_figures(4, 40_000, 2, 30_000), roi.ProgramCost(points_minor=1_000, tier_minor=500))
    assert e.incremental_minor == (10_000 - 15_000) * 4 == -20_000
    assert e.roi == Decimal(-21_500) / Decimal(1_500)


@pytest.mark.parametrize(("figures", "cost"), [
    (_figures(0, 0, 2, 30_000), roi.ProgramCost(points_minor=1_000)),  # no member sale: no average check
    (_figures(3, 30_000, 0, 0), roi.ProgramCost(points_minor=1_000)),  # nobody to compare with
    (_figures(3, 30_000, 2, 10_000), roi.ProgramCost()),  # the program cost nothing: no ratio
])
def test_an_estimate_with_nothing_to_divide_by_is_none(figures, cost):
    assert roi.estimate(figures, cost).roi is None


def test_the_cost_share_needs_member_revenue():
    assert roi.estimate(_figures(0, 0, 1, 100), roi.ProgramCost(coupon_minor=10)).cost_share is None
