"""Phone numbers in E.164, parsed with Google's libphonenumber rules (the phonenumbers package)."""

from functools import lru_cache

import phonenumbers

from crm.locales import lazy_gettext as _l


class InvalidPhone(ValueError):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def normalize_phone(raw: str, region: str) -> str:
    """Return the number in E.164 (+380671234567) or raise InvalidPhone."""
    text = (raw or "").strip()
    if not text:
        raise InvalidPhone(_l("Enter a phone number."))
    if len(text) > 40:
        raise InvalidPhone(_l("This is too long for a phone number."))
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidPhone(_l("This does not look like a phone number.")) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(_l("This phone number is not valid for its country."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def national_digits(e164: str) -> str:
    """The digits as dialled inside the country, e.g. 0671234567 for +380671234567."""
    number = phonenumbers.parse(e164, None)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return "".join(ch for ch in national if ch.isdigit())


@lru_cache(maxsize=8192)  # a pure function of its arguments; parsing costs ~70 µs and a list page shows dozens
def display_phone(e164: str, region: str | None = None) -> str:
    """As people write it: nationally for a number of the shop's ``region`` ("067 123 4567"), internationally
    for any other ("+373 69 123 456")."""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    local = region is not None and phonenumbers.region_code_for_number(number) == region.upper()
    style = phonenumbers.PhoneNumberFormat.NATIONAL if local else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    return phonenumbers.format_number(number, style)
