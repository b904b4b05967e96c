"""The shop's clock on the page: format_local writes every moment exactly as Babel's format_datetime would with
the locale's pattern (it takes a shortcut through strftime for all-number patterns)."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from hypothesis import given, settings
from hypothesis import strategies as st

from crm.shop_time import format_local, local_pattern

LANGUAGES = ("en", "uk", "ru", "ro", "de", "ja")  # the shop's languages and two whose patterns are not all numbers


@settings(max_examples=300, deadline=None)
@given(moment=st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)),
       kind=st.sampled_from(("date", "time", "datetime")), language=st.sampled_from(LANGUAGES),
       zone=st.sampled_from(("Europe/Kyiv", "Europe/Chisinau", "Europe/Bucharest", "UTC", "Asia/Kolkata")))
def test_a_moment_is_written_as_babel_writes_it(app, moment, kind, language, zone):
    shop_zone = app.config["SHOP_TIMEZONE"]
    app.config["SHOP_TIMEZONE"] = zone
    try:
        with app.app_context():
            assert format_local(moment, kind, language) == format_datetime(
                moment, local_pattern(kind, language), tzinfo=ZoneInfo(zone), locale=language)
    finally:  # the app outlives this test
        app.config["SHOP_TIMEZONE"] = shop_zone
