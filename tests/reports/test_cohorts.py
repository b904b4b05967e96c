"""Retention cohorts: customers by the shop's month of their first paid sale, and who came back when."""

from datetime import date
from zoneinfo import ZoneInfo

from crm.reports import cohorts
from tests import factories
from tests.reports import shop

KYIV = ZoneInfo("Europe/Kyiv")


def test_cohorts_by_first_paid_month_and_their_return(session):
    anna, boris, chris = factories.customer(), factories.customer(), factories.customer()
    shop.sale(session, anna, 1_000, shop.at("2026-01-10T10:00"))  # January's cohort...
    shop.sale(session, anna, 1_000, shop.at("2026-01-20T10:00"))  # (the same month: not a return)
    shop.sale(session, anna, 1_000, shop.at("2026-03-05T10:00"))  # ...back in month 2
    # 31 Jan 22:30 UTC is 1 February 00:30 in Kyiv: Boris is February's cohort, back in month 1 (March)
    shop.sale(session, boris, 1_000, shop.at("2026-01-31T22:30"))
    shop.sale(session, boris, 1_000, shop.at("2026-03-01T10:00"))
    shop.sale(session, chris, 1_000, shop.at("2025-12-20T10:00"))  # December's: before the range
    shop.sale(session, chris, 1_000, shop.at("2026-01-15T10:00"))
    shop.sale(session, None, 1_000, shop.at("2026-01-15T10:00"))  # a walk-in is nobody's cohort
    rows = cohorts.cohorts(session, date(2026, 1, 1), date(2026, 2, 28), date(2026, 4, 15), KYIV)
    assert [(row.month, row.customers) for row in rows] == [(date(2026, 1, 1), 1), (date(2026, 2, 1), 1)]
    assert rows[0].came_back[:3] == [0, 1, None]  # April is not over on 15 April
    assert rows[1].came_back[:3] == [1, None, None]
    assert rows[0].came_back[3:] == [None] * 9


def test_both_plans_count_the_same_on_random_sales(session):
    """SQLite looks each cohort customer's sales up, PostgreSQL joins two grouped subqueries: same counts."""
    import random
    from datetime import timedelta

    rng = random.Random(5)
    people = [factories.customer() for _ in range(25)]
    start = shop.at("2025-11-01T08:00")
    for _ in range(160):
        shop.sale(session, rng.choice(people + [None]), 1_000, start + timedelta(hours=rng.randrange(24 * 200)))
    args = (session, date(2025, 11, 1), date(2026, 3, 31), date(2026, 6, 1), KYIV)
    lookup, join = cohorts.cohorts(*args, plan="lookup"), cohorts.cohorts(*args, plan="join")
    assert lookup == join
    assert sum(row.customers for row in lookup) > 5 and any(any(row.came_back[:3]) for row in lookup)
