"""Arguments of a list page's query string, read the same way everywhere: garbage means the default."""

from datetime import date

from flask import request

# Ids are INTEGER columns: PostgreSQL refuses to compare one with a larger number (a 500), so an id
# above this in a URL or a query string names nothing.
MAX_ID = 2**31 - 1


def page_arg(name: str = "page", maximum: int = 100_000) -> int:
    """The page number from the query string; garbage or out-of-range values mean page 1."""
    try:
        page = int(request.args.get(name, "1"))
    except ValueError:
        return 1
    return page if 1 <= page <= maximum else 1


def date_arg(name: str) -> date | None:
    """An ISO date from the query string, or None for garbage and for days whose shop-local bounds in UTC
    would overflow datetime (year 1 or 9999)."""
    try:
        value = date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None
    return value if date(1900, 1, 1) <= value <= date(9999, 12, 30) else None
