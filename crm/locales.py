"""Speaking a customer's language outside the staff member's: messages and the customer's own pages."""

from contextlib import nullcontext

from babel import Locale, UnknownLocaleError
from flask_babel import force_locale


def in_language(language: str | None):
    """A context in which gettext speaks ``language``. A code Babel does not know (a shop that wrote "ua"
    for Ukrainian in MESSAGE_LANGUAGES, say) keeps the shop's language rather than failing."""
    try:
        Locale.parse(language or "")
    except (UnknownLocaleError, ValueError, TypeError):
        return nullcontext()
    return force_locale(language)
