"""The Loyalty report's figures on a shop where each is known (tests/reports/shop.py), and the ledger's books:
what the report says was issued, redeemed, expired and reversed is exactly how the balances moved."""

from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from crm.loyalty.models import Account, LedgerEntry
from crm.reports import display, loyalty, period
from tests.reports import shop

KYIV = ZoneInfo("Europe/Kyiv")
MARCH = period.make("custom", date(2026, 3, 1), date(2026, 3, 31), KYIV)


@pytest.fixture
def built(session):
    return shop.build(session)


def test_march_figures_are_exactly_the_shops(session, built):
    f = loyalty.figures(session, MARCH.start_utc, MARCH.end_utc, active_days=90)
    assert (f.members_at_end, f.new_members, f.active_members) == (3, 1, 2)
    assert (f.members.customers, f.members.repeat_customers, f.members.sales) == (2, 1, 3)
    assert (f.members.paid_minor, f.members.refunded_minor, f.members.net_minor) == (60_000, 5_000, 55_000)
    assert (f.others.customers, f.others.sales, f.others.sales_of_known, f.others.net_minor) == (1, 2, 1, 10_000)
    assert f.points == {"earn": 400, "welcome": 50, "birthday": 100, "anniversary": 0, "referral": 0,
                        "bonus_other": 0, "adjust_plus": 20, "redeem": -40, "expire": -30,
                        "reversal_restore": 0, "reversal_take_back": -50, "adjust_minus": -10}
    assert (f.issued, f.redeemed, f.expired, f.reversed, f.deducted) == (570, 40, 30, 50, 10)
    assert (f.liability_points, f.money(f.liability_points)) == (570, 57_000)
    assert (f.ratings, f.rating_sum, f.low_ratings) == (2, 7, 1)


def test_the_sale_after_midnight_on_the_last_of_february_utc_belongs_to_march_not_february(session, built):
    february = period.previous(MARCH, KYIV)
    assert (february.first, february.last) == (date(2026, 1, 29), date(2026, 2, 28))
    f = loyalty.figures(session, february.start_utc, february.end_utc, active_days=90)
    assert (f.members.sales, f.others.sales, f.members_at_end, f.new_members) == (0, 0, 2, 1)
    assert f.issued == 80  # Anna's welcome and Dana's 30 earned


def test_the_shown_rates_and_averages_are_rounded_once(session, built):
    now = loyalty.figures(session, MARCH.start_utc, MARCH.end_utc, active_days=90)
    february = period.previous(MARCH, KYIV)
    before = loyalty.figures(session, february.start_utc, february.end_utc, active_days=90)
    members = {row.key: row for row in display.members_table(now, before)}
    assert members["active_share"].value == Decimal(2) / 3
    assert members["conversion"].value == Decimal(2) / 3
    assert members["repeat_rate"].value == Decimal(1) / 3
    spending = {row.key: row for row in display.spending_table(now, before)}
    assert display.rounded(spending["check_members"].value, "1") == 18_333
    assert spending["check_others"].value == 5_000
    assert spending["visits_members"].value == 1.5 and spending["visits_others"].value == 1
    assert spending["check_members"].previous is None  # no sale in February: nothing to divide by
    points = {row.key: row for row in display.points_table(now, before)}
    assert display.rounded(points["redemption_rate"].value * 100, "0.1") == 7.0
    satisfaction = {row.key: row for row in display.satisfaction_table(now, before)}
    assert satisfaction["average_rating"].value == 3.5 and satisfaction["low_share"].value == 0.5
    assert satisfaction["ratings"].change == 2


def _balances_from_entries(session, moment) -> int:
    """The sum of every customer's balance_after on their last entry before ``moment``: the ledger's own record
    of the balances, not a sum of the points the report adds up."""
    last = (select(func.max(LedgerEntry.id)).where(LedgerEntry.created_at < moment)
            .group_by(LedgerEntry.customer_id))
    return session.scalar(select(func.coalesce(func.sum(LedgerEntry.balance_after), 0))
                          .where(LedgerEntry.id.in_(last)))


@pytest.mark.parametrize("first,last", [(date(2026, 1, 1), date(2026, 12, 31)), (date(2026, 3, 1), date(2026, 3, 4)),
                                        (date(2026, 2, 1), date(2026, 3, 20)), (date(2026, 3, 5), date(2026, 3, 25))])
def test_issued_minus_spent_expired_reversed_is_the_change_of_the_balances(session, built, first, last):
    chosen = period.make("custom", first, last, KYIV)
    f = loyalty.figures(session, chosen.start_utc, chosen.end_utc, active_days=90)
    change = _balances_from_entries(session, chosen.end_utc) - _balances_from_entries(session, chosen.start_utc)
    assert f.issued - f.redeemed - f.expired - f.reversed + f.restored - f.deducted == change
    assert f.liability_points == _balances_from_entries(session, chosen.end_utc)


def test_the_liability_after_everything_is_the_sum_of_the_accounts_balances(session, built):
    end = period.make("custom", date(2026, 1, 1), date(2027, 1, 1), KYIV).end_utc
    f = loyalty.figures(session, end - timedelta(days=400), end, active_days=90)
    assert f.liability_points == session.scalar(select(func.sum(Account.balance))) == 570
