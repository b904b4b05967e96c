"""Money is integer minor units; what a person types is parsed exactly or refused with a message."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm.money import (
    MAX_AMOUNT_MINOR,
    InvalidAmount,
    format_amount_plain,
    format_money,
    minor_exponent,
    parse_amount,
    to_decimal,
)


@pytest.mark.parametrize(
    ("typed", "minor"),
    [
        ("12", 1200),
        ("12.5", 1250),
        ("12.50", 1250),
        ("12,50", 1250),
        ("1 250.00", 125000),
        ("1 250,50", 125050),
        ("1\u00a0250,50", 125050),  # a no-break space, as copied from a formatted amount
        ("  7.05  ", 705),
        (".5", 50),
        ("5.", 500),
        ("+5", 500),
        ("0", 0),
        ("0.00", 0),
        ("-0", 0),
    ],
)
def test_two_decimal_amounts_are_parsed_to_minor_units(typed, minor):
    assert parse_amount(typed, "UAH") == minor
    assert parse_amount(typed, "EUR") == minor


def test_parsed_amount_is_an_int_not_a_float_or_decimal():
    assert type(parse_amount("19.99", "UAH")) is int


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter an amount."),
        ("   ", "Enter an amount."),
        (None, "Enter an amount."),
        ("-5", "The amount cannot be negative."),
        ("-0.01", "The amount cannot be negative."),
        ("12.345", "Use at most 2 decimal places."),
        ("0.001", "Use at most 2 decimal places."),
        ("abc", "This is not an amount."),
        ("12abc", "This is not an amount."),
        ("1.2.3", "This is not an amount."),
        # The comma is the decimal separator, so a comma-grouped amount is refused, never misread.
        ("1,250.50", "This is not an amount."),
        ("NaN", "This is not an amount."),
        ("sNaN", "This is not an amount."),
        ("Infinity", "This is not an amount."),
        ("-Infinity", "This is not an amount."),
        ("inf", "This is not an amount."),
        # Scientific notation is not something a desk types; refusing it keeps Decimal's
        # exponent range (overflow, silent rounding of 1e-999999999 to 0) out of reach.
        ("1e3", "This is not an amount."),
        ("1E2", "This is not an amount."),
        ("1e999999999", "This is not an amount."),
        ("1e-999999999", "This is not an amount."),
        ("1_000", "This is not an amount."),
        ("١٢", "This is not an amount."),  # Arabic-Indic digits
        ("1" * 21, "This is not an amount."),
        ("10000000.01", "This amount is too large."),  # above what an INTEGER column holds in minor units
        ("1000000000.01", "This amount is too large."),
        ("99999999999999999999", "This amount is too large."),
    ],
)
def test_unusable_amounts_are_refused_with_a_message(typed, message):
    with pytest.raises(InvalidAmount) as caught:
        parse_amount(typed, "UAH")
    assert str(caught.value.message) == message


def test_the_largest_allowed_amount_is_accepted():
    assert parse_amount(format_amount_plain(MAX_AMOUNT_MINOR, "UAH"), "UAH") == MAX_AMOUNT_MINOR


def test_yen_has_no_minor_units():
    assert minor_exponent("JPY") == 0
    assert parse_amount("1500", "JPY") == 1500
    assert parse_amount("1 500", "JPY") == 1500
    with pytest.raises(InvalidAmount, match="Use at most 0 decimal places"):
        parse_amount("1500.5", "JPY")


def test_three_decimal_currency_keeps_three_digits():
    assert parse_amount("1.234", "BHD") == 1234
    with pytest.raises(InvalidAmount):
        parse_amount("1.2345", "BHD")


def test_to_decimal_is_exact():
    assert str(to_decimal(125050, "UAH")) == "1250.50"
    assert str(to_decimal(1500, "JPY")) == "1500"


@pytest.mark.parametrize(
    ("minor", "currency", "plain"),
    [(125050, "UAH", "1250.50"), (5, "UAH", "0.05"), (0, "EUR", "0.00"), (1500, "JPY", "1500"), (None, "UAH", "")],
)
def test_format_amount_plain_is_what_a_form_input_shows(minor, currency, plain):
    assert format_amount_plain(minor, currency) == plain


@pytest.mark.parametrize(
    ("minor", "currency", "locale", "shown"),
    [
        (125050, "UAH", "en", "UAH1,250.50"),
        (125050, "UAH", "uk", "1\u00a0250,50\u00a0₴"),
        (125050, "EUR", "en", "€1,250.50"),
        (125050, "EUR", "ro", "1.250,50\u00a0EUR"),
        (1500, "JPY", "en", "¥1,500"),
    ],
)
def test_format_money_uses_the_locale_and_currency(minor, currency, locale, shown):
    assert format_money(minor, currency, locale) == shown


def test_format_money_of_nothing_is_empty():
    assert format_money(None, "UAH", "en") == ""


@given(
    currency=st.sampled_from(["UAH", "EUR", "MDL", "RON", "JPY", "BHD"]),
    minor=st.integers(min_value=0, max_value=MAX_AMOUNT_MINOR),
)
def test_plain_format_parses_back_to_the_same_minor_units(currency, minor):
    assert parse_amount(format_amount_plain(minor, currency), currency) == minor


@given(st.one_of(st.text(max_size=30), st.text(alphabet="0123456789.,-+ eEnNaAiIfF_\u00a0", max_size=25)))
def test_parse_amount_never_crashes(text):
    """Any input either parses to an allowed amount or raises InvalidAmount (a form error, never a 500)."""
    try:
        minor = parse_amount(text, "UAH")
    except InvalidAmount as exc:
        assert str(exc.message)
    else:
        assert type(minor) is int
        assert 0 <= minor <= MAX_AMOUNT_MINOR


@pytest.mark.parametrize(("language", "shown"), [("uk", "1\xa0500,00\xa0₴"), ("ru", "1\xa0500,00\xa0₴"),
                                                 ("en", "UAH1,500.00")])
def test_the_shops_money_is_written_as_the_active_language_writes_it(app, language, shown):
    """One formatter for templates, services and messages: the shop's currency, the language in use."""
    from flask_babel import force_locale

    from crm.money import shop_money

    with app.test_request_context(), force_locale(language):
        assert shop_money(150_000) == shown
        assert app.jinja_env.filters["money"](150_000) == shown


def test_a_picked_up_message_writes_the_total_in_the_customers_language(app):
    from flask_babel import force_locale

    from crm.locales import lazy_text
    from crm.money import shop_money
    from crm.notifications.outbox import translated_variables

    with app.test_request_context(), force_locale("en"):
        variables = translated_variables({"total": lazy_text(lambda: shop_money(150_000))}, "uk")
    assert variables["total"] == "1\xa0500,00\xa0₴"
