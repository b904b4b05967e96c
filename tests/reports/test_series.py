"""The dashboard's series on the hand-built shop (tests/reports/shop.py): buckets in the shop's days, weeks and
months (across the end of February in UTC and the clock change of 29 March 2026 in Kyiv), and that each series
adds up to the Loyalty report's figure for the same range."""

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from crm.reports import loyalty, period, series
from tests.reports import shop

KYIV = ZoneInfo("Europe/Kyiv")


@pytest.fixture
def built(session):
    return shop.build(session)


@pytest.mark.parametrize(("first", "last", "unit"), [
    (date(2026, 3, 1), date(2026, 3, 1), "day"), (date(2026, 3, 1), date(2026, 4, 14), "day"),
    (date(2026, 3, 1), date(2026, 4, 15), "week"), (date(2026, 1, 1), date(2026, 7, 19), "week"),
    (date(2026, 1, 1), date(2026, 7, 20), "month"), (date(2017, 1, 1), date(2026, 12, 31), "month"),
])
def test_the_granularity_follows_the_length_of_the_range(first, last, unit):
    assert series.granularity(first, last) == unit


def test_buckets_are_clipped_to_the_range():
    assert series.bucket_days(date(2026, 3, 4), date(2026, 3, 20), "week") == [
        date(2026, 3, 4), date(2026, 3, 9), date(2026, 3, 16)]  # a Wednesday, then Mondays
    assert series.bucket_days(date(2025, 12, 15), date(2026, 2, 2), "month") == [
        date(2025, 12, 15), date(2026, 1, 1), date(2026, 2, 1)]


def test_a_week_over_the_clock_change_is_an_hour_shorter():
    b = series.buckets(date(2026, 3, 1), date(2026, 4, 30), KYIV)
    assert b.unit == "week" and b.days[4] == date(2026, 3, 23)
    assert (b.bounds[5] - b.bounds[4]).total_seconds() == 7 * 24 * 3600 - 3600


def test_march_per_day(session, built):
    s = series.series(session, date(2026, 3, 1), date(2026, 3, 31), KYIV)
    assert s.unit == "day" and len(s.labels) == 31 and s.labels[0] == "2026-03-01"
    members = {s.labels[i]: v for i, v in enumerate(s.revenue_members) if v}
    # Boris's 20000 at 22:30 UTC on 28 February is 1 March in Kyiv; Anna's refund of 5000 counts on 25 March.
    assert members == {"2026-03-01": 20_000, "2026-03-05": 10_000, "2026-03-20": 30_000, "2026-03-25": -5_000}
    assert {s.labels[i]: v for i, v in enumerate(s.revenue_others) if v} == {"2026-03-15": 8_000,
                                                                            "2026-03-16": 2_000}
    assert {s.labels[i]: v for i, v in enumerate(s.issued) if v} == {
        "2026-03-03": 20, "2026-03-05": 100, "2026-03-07": 100, "2026-03-10": 50, "2026-03-20": 300}
    assert {s.labels[i]: v for i, v in enumerate(s.redeemed) if v} == {"2026-03-20": 40}
    assert {s.labels[i]: v for i, v in enumerate(s.expired) if v} == {"2026-03-01": 30}  # the lot's expiry
    assert {s.labels[i]: v for i, v in enumerate(s.new_members) if v} == {"2026-03-10": 1}


def test_weeks_put_the_sale_after_midnight_of_1_april_in_the_week_of_30_march(session, built):
    s = series.series(session, date(2026, 3, 1), date(2026, 4, 30), KYIV)
    assert s.unit == "week" and s.labels[:2] == ["2026-03-01", "2026-03-02"]  # 1 March is a Sunday
    weeks = dict(zip(s.labels, s.revenue_members, strict=True))
    assert weeks["2026-03-01"] == 20_000 and weeks["2026-03-30"] == 99_900 and weeks["2026-03-23"] == -5_000


def test_months_of_a_year(session, built):
    s = series.series(session, date(2026, 1, 1), date(2026, 12, 31), KYIV)
    assert s.unit == "month" and s.labels[:4] == ["2026-01", "2026-02", "2026-03", "2026-04"]
    assert s.revenue_members[:4] == [0, 0, 55_000, 99_900]
    assert s.new_members[:4] == [1, 1, 1, 0]
    assert s.issued[:3] == [50, 80, 570] and s.expired[:3] == [0, 0, 30]


@pytest.mark.parametrize(("first", "last"), [
    (date(2026, 3, 1), date(2026, 3, 31)), (date(2026, 2, 10), date(2026, 4, 20)),
    (date(2025, 11, 1), date(2026, 6, 30)), (date(2026, 3, 29), date(2026, 3, 29)),
])
def test_each_series_adds_up_to_the_report_figure(session, built, first, last):
    s = series.series(session, first, last, KYIV)
    chosen = period.make("custom", first, last, KYIV)
    f = loyalty.figures(session, chosen.start_utc, chosen.end_utc, active_days=90)
    assert sum(s.revenue_members) == f.members.net_minor and sum(s.revenue_others) == f.others.net_minor
    assert (sum(s.issued), sum(s.redeemed), sum(s.expired)) == (f.issued, f.redeemed, f.expired)
    assert sum(s.new_members) == f.new_members
