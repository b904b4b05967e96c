"""Whole numbers from requests (ids, page numbers, points, quantities): ASCII digits, one rule everywhere.

``str.isdigit()`` accepts superscript and circled digits ("²", "①") that ``int()`` refuses (a 500 where a
check let them through), and ``int()`` itself reads every script's digits ("٣" is 3), underscores ("1_000")
and surrounding spaces. What a form or a URL carries is read here instead."""

import re

# Ids are INTEGER columns: PostgreSQL refuses to compare one with a larger number (a 500), so an id
# above this in a URL or a query string names nothing.
MAX_ID = 2**31 - 1

# [0-9], not \d: \d is every script's digits. 18 digits keep int() far from its 4300-digit limit.
_WHOLE = re.compile(r"[0-9]{1,18}")
_SIGNED = re.compile(r"[+-]?[0-9]{1,18}")


def whole_number(text: str | None, maximum: int = MAX_ID) -> int | None:
    """The number 0..maximum written in ``text`` (ASCII digits, spaces around allowed), else None."""
    text = (text or "").strip()
    if not _WHOLE.fullmatch(text):
        return None
    number = int(text)
    return number if number <= maximum else None


def integer(text: str | None) -> int | None:
    """A signed whole number ("-3", "+5", "12") in ASCII digits, spaces around allowed, else None."""
    text = (text or "").strip()
    return int(text) if _SIGNED.fullmatch(text) else None
