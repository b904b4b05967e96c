"""A promo code's days are the shop's days: from the midnight that starts the first to the one that ends the last."""

from datetime import UTC, date, datetime

from crm.loyalty.coupon_admin import validity_instants


def test_a_promo_code_runs_from_the_shops_first_midnight_to_its_last(app_ctx):
    # Kyiv: UTC+2 in winter, UTC+3 from the last Sunday of March (29 March 2026).
    start, end = validity_instants(date(2026, 3, 1), date(2026, 3, 31))
    assert start == datetime(2026, 2, 28, 22, 0, tzinfo=UTC)
    assert end == datetime(2026, 3, 31, 21, 0, tzinfo=UTC)


def test_a_one_day_code_lasts_that_day(app_ctx):
    start, end = validity_instants(date(2026, 6, 1), date(2026, 6, 1))
    assert (end - start).total_seconds() == 24 * 3600
