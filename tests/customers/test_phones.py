"""Phone numbers are stored in E.164, read with the shop's default region."""

import pytest

from crm.customers.phones import InvalidPhone, display_phone, national_digits, normalize_phone


@pytest.mark.parametrize(
    "typed",
    ["067 123 45 67", "0671234567", "+380671234567", "(067) 123-45-67", "+38 (067) 123 45 67", " 067-123-45-67 "],
)
def test_ukrainian_number_in_any_format_is_the_same_e164(typed):
    assert normalize_phone(typed, "UA") == "+380671234567"


@pytest.mark.parametrize(
    ("typed", "region", "e164"),
    [
        ("069 123 456", "MD", "+37369123456"),
        ("+373 69 123 456", "MD", "+37369123456"),
        ("0721 234 567", "RO", "+40721234567"),
        ("+40 721 234 567", "RO", "+40721234567"),
        # A number written with its country code is read as that country's, whatever the region.
        ("+373 69 123 456", "UA", "+37369123456"),
    ],
)
def test_moldovan_and_romanian_numbers_use_their_region(typed, region, e164):
    assert normalize_phone(typed, region) == e164


def test_the_default_region_decides_how_a_national_number_is_read():
    with pytest.raises(InvalidPhone):
        normalize_phone("067 123 45 67", "MD")


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter a phone number."),
        ("   ", "Enter a phone number."),
        (None, "Enter a phone number."),
        ("0" * 41, "This is too long for a phone number."),
        ("abc", "This does not look like a phone number."),
        ("+999 123", "This does not look like a phone number."),
        ("123", "This phone number is not valid for its country."),
        ("0671234567890123", "This phone number is not valid for its country."),
    ],
)
def test_unusable_numbers_are_refused_with_a_message(typed, message):
    with pytest.raises(InvalidPhone) as caught:
        normalize_phone(typed, "UA")
    assert str(caught.value.message) == message


def test_national_digits_are_what_is_dialled_inside_the_country():
    assert national_digits("+380671234567") == "0671234567"
    assert national_digits("+37369123456") == "069123456"
    assert national_digits("+40721234567") == "0721234567"


def test_display_phone_groups_digits_and_tolerates_garbage():
    assert display_phone("+380671234567") == "+380 67 123 4567"
    assert display_phone("not a phone") == "not a phone"


def test_a_number_of_the_shops_region_is_shown_nationally_any_other_internationally():
    assert display_phone("+380671234567", "UA") == "067 123 4567"
    assert display_phone("+37369123456", "UA") == "+373 691 23 456"
    assert display_phone("+37369123456", "MD") == "0691 23 456"
    assert display_phone("+40721234567", "RO") == "0721 234 567"
