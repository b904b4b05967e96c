"""Money is an integer count of the currency's minor units (kopiyky, bani, cents), never a float.

Rounding rule for amounts typed by people: more decimals than the currency has is an error, not a
silent rounding, so what the customer was told is what is stored."""

import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from babel.numbers import format_currency, get_currency_precision
from flask import current_app

from crm.locales import active_language
from crm.locales import lazy_gettext as _l
from crm.locales import lazy_ngettext as _ln

# Ten million in major units (a billion yen): far beyond any repair bill, and inside the 32-bit
# INTEGER columns that hold amounts (PostgreSQL refuses anything larger).
MAX_AMOUNT_MINOR = 10**9
# What a person types: ASCII digits with at most one decimal separator. No exponent ("1e3"), which
# Decimal would accept and which overflows or silently rounds to zero at the extremes.
_PLAIN_AMOUNT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


class InvalidAmount(ValueError):
    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


def minor_exponent(currency: str) -> int:
    return get_currency_precision(currency)


def parse_amount(text: str, currency: str) -> int:
    """'1 250,50' or '1250.5' -> 125050 for a two-decimal currency."""
    cleaned = (text or "").strip().replace("\u00a0", "").replace(" ", "").replace(",", ".")
    if not cleaned:
        raise InvalidAmount(_l("Enter an amount."))
    if cleaned.count(".") > 1 or len(cleaned) > 20 or not _PLAIN_AMOUNT.fullmatch(cleaned):
        raise InvalidAmount(_l("This is not an amount."))
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise InvalidAmount(_l("This is not an amount.")) from None
    if not value.is_finite():
        raise InvalidAmount(_l("This is not an amount."))
    if value < 0:
        raise InvalidAmount(_l("The amount cannot be negative."))
    exponent = minor_exponent(currency)
    minor = value.scaleb(exponent)
    if minor != minor.to_integral_value():
        raise InvalidAmount(_ln("Use at most %(num)d decimal place.", "Use at most %(num)d decimal places.", exponent))
    if minor > MAX_AMOUNT_MINOR:
        raise InvalidAmount(_l("This amount is too large."))
    return int(minor)


def to_decimal(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-minor_exponent(currency))


def format_amount_plain(minor: int | None, currency: str) -> str:
    """For form inputs: '1250.50' (no grouping, no symbol)."""
    if minor is None:
        return ""
    return f"{to_decimal(minor, currency):.{minor_exponent(currency)}f}"


@lru_cache(maxsize=16384)  # a pure function of its arguments; Babel takes ~40 µs and a list shows dozens of amounts
def format_money(minor: int | None, currency: str, locale: str) -> str:
    if minor is None:
        return ""
    return format_currency(to_decimal(minor, currency), currency, locale=locale)


def shop_money(minor: int | None, locale: str | None = None) -> str:
    """An amount in the shop's currency (CURRENCY) as the active language writes it ("1 500,00 ₴" in uk): the one
    formatter of templates (the ``money`` filter), services and messages. A message formats it inside the
    customer's language (crm.locales.lazy_text), so it reads in theirs."""
    language = locale or active_language()
    return format_money(minor, current_app.config["CURRENCY"], language)


BASIS_POINTS = 10_000  # 100%


def percent_of(amount_minor: int, basis_points: int) -> int:
    """``basis_points``/100 percent of an amount, rounded half up to the minor unit (rule 1 of
    crm.sales.pricing): 15% of 3.33 = 0.4995 -> 0.50. Never passes through a float."""
    if amount_minor < 0 or not 0 <= basis_points <= BASIS_POINTS:
        raise ValueError("amount must be >= 0 and the percentage between 0 and 100")
    exact = Decimal(amount_minor) * basis_points / BASIS_POINTS
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def allocate(amount: int, weights: Sequence[int]) -> list[int]:
    """Split ``amount`` over ``weights`` in proportion by the largest-remainder method (rule 3 of
    crm.sales.pricing): every share is the rounded-down proportion, and what is left goes one unit
    each to the largest fractional parts (earlier first on ties). Shares add up to ``amount``."""
    total = sum(weights)
    if amount < 0 or any(w < 0 for w in weights):
        raise ValueError("amounts and weights must not be negative")
    if amount > total:
        raise ValueError("cannot allocate more than the weights hold")
    if amount == 0:
        return [0] * len(weights)
    shares = [amount * w // total for w in weights]
    remainders = [amount * w % total for w in weights]
    left = amount - sum(shares)
    for index in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:left]:
        shares[index] += 1
    return shares
