"""A report's range from the query string: presets in the shop's days, custom days, the previous period, and bad
input falling back to this month with a message. No HTTP: plain arguments."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from crm.reports import period

KYIV = ZoneInfo("Europe/Kyiv")
TODAY = date(2026, 3, 18)  # a Wednesday


@pytest.mark.parametrize("preset,first,last", [
    ("today", date(2026, 3, 18), date(2026, 3, 18)),
    ("this_week", date(2026, 3, 16), date(2026, 3, 18)),
    ("this_month", date(2026, 3, 1), date(2026, 3, 18)),
    ("last_month", date(2026, 2, 1), date(2026, 2, 28)),
    ("last_30", date(2026, 2, 17), date(2026, 3, 18)),
    ("last_90", date(2025, 12, 19), date(2026, 3, 18)),
    ("this_year", date(2026, 1, 1), date(2026, 3, 18)),
    ("last_year", date(2025, 1, 1), date(2025, 12, 31)),
])
def test_each_preset_covers_its_days(preset, first, last):
    chosen, error = period.from_args({"period": preset}, TODAY, KYIV)
    assert (chosen.preset, chosen.first, chosen.last, error) == (preset, first, last, None)


def test_last_month_in_january_is_december():
    assert period.preset_days("last_month", date(2026, 1, 10)) == (date(2025, 12, 1), date(2025, 12, 31))


def test_no_period_is_this_month():
    chosen, error = period.from_args({}, TODAY, KYIV)
    assert (chosen.preset, chosen.first, error) == ("this_month", date(2026, 3, 1), None)


def test_a_custom_range_is_inclusive_and_bounded_by_the_shops_midnights():
    chosen, error = period.from_args({"period": "custom", "start": "2026-01-10", "end": "2026-01-12"}, TODAY, KYIV)
    assert error is None and chosen.days == 3
    assert chosen.start_utc == datetime(2026, 1, 9, 22, 0, tzinfo=UTC)  # Kyiv is UTC+2 in winter
    assert chosen.end_utc == datetime(2026, 1, 12, 22, 0, tzinfo=UTC)


def test_the_week_the_clocks_go_forward_is_an_hour_short():
    chosen = period.make("custom", date(2026, 3, 23), date(2026, 3, 29), KYIV)  # summer time from 29 March
    assert chosen.start_utc == datetime(2026, 3, 22, 22, 0, tzinfo=UTC)
    assert chosen.end_utc == datetime(2026, 3, 29, 21, 0, tzinfo=UTC)
    assert chosen.end_utc - chosen.start_utc == timedelta(days=7, hours=-1)


def test_the_previous_period_has_the_same_number_of_days_just_before():
    chosen = period.make("custom", date(2026, 3, 1), date(2026, 3, 31), KYIV)
    before = period.previous(chosen, KYIV)
    assert (before.first, before.last, before.days) == (date(2026, 1, 29), date(2026, 2, 28), 31)
    assert before.end_utc == chosen.start_utc


@pytest.mark.parametrize("args,message", [
    ({"period": "custom", "start": "2026-13-45", "end": "2026-03-01"}, "as dates"),
    ({"period": "custom", "start": "", "end": "2026-03-01"}, "as dates"),
    ({"period": "custom", "start": "20260101", "end": "2026-03-01"}, "as dates"),
    ({"period": "custom", "start": "2026-03-02", "end": "2026-03-01"}, "before the first"),
    ({"period": "custom", "start": "1926-01-01", "end": "2026-01-01"}, "ten years"),
    ({"period": "next_century"}, "from the list"),
    ({"period": "custom", "start": "0001-01-01", "end": "0001-01-02"}, "between the years"),
    ({"period": "custom", "start": "9999-12-30", "end": "9999-12-31"}, "between the years"),
])
def test_bad_input_says_why_and_shows_this_month(args, message):
    chosen, error = period.from_args(args, TODAY, KYIV)
    assert message in error
    assert (chosen.preset, chosen.first, chosen.last) == ("this_month", date(2026, 3, 1), TODAY)


def test_ten_years_exactly_is_allowed():
    chosen, error = period.from_args({"period": "custom", "start": "2016-01-01", "end": "2025-12-31"}, TODAY, KYIV)
    assert error is None and chosen.days == 3653
