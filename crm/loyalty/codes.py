"""What a code is (promo codes, personal coupons, referral codes): one rule for the codes the shop creates
and the codes typed at the desk, so every code that can be created can be redeemed.

A code is 3 to 16 ASCII capital letters and digits. Case does not matter, and the spaces and dashes people
write for readability ("SPRING-10", "k7pq 2m") are not part of it: "spring 10" and "SPRING-10" are the code
SPRING10, which is how it is stored and looked up."""

import re

from crm.locales import lazy_gettext as _l

# No 0/O or 1/I/L in codes the shop draws: the code is read out over the phone and typed by the desk.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_MIN_LENGTH, CODE_MAX_LENGTH = 3, 16
CODE_RULE = _l("A code is 3 to 16 letters (A-Z) and digits; dashes and spaces between them are left out.")

_SEPARATORS = re.compile(r"[\s-]+")
_CODE = re.compile(rf"[A-Z0-9]{{{CODE_MIN_LENGTH},{CODE_MAX_LENGTH}}}")


def normalize_code(text: str | None) -> str:
    """The code as stored: without spaces and dashes, in capitals. Only ASCII is upper-cased ("ß" or "ﬁ"
    would otherwise become "SS" or "FI" and pass for letters the manager never typed)."""
    text = _SEPARATORS.sub("", text or "")
    return text.upper() if text.isascii() else text


def is_valid_code(code: str) -> bool:
    """Whether a normalised code can be a code at all (what is not can be neither created nor found)."""
    return _CODE.fullmatch(code) is not None


def code_problem(text: str | None):
    """Why ``text`` cannot be a code (a message for the field), or None when it can."""
    return None if is_valid_code(normalize_code(text)) else CODE_RULE
