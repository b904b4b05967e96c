"""Arguments of a list page's query string, read the same way everywhere (garbage means the default), and
the links of a list's pager."""

from datetime import date
from urllib.parse import urlencode

from flask import request, url_for

from crm.numbers import MAX_ID, whole_number

__all__ = ["MAX_ID", "date_arg", "page_arg", "page_url"]


def page_arg(name: str = "page", maximum: int = 100_000) -> int:
    """The page number from the query string; garbage or out-of-range values mean page 1."""
    page = whole_number(request.args.get(name), maximum=maximum)
    return page if page else 1


def page_url(endpoint: str, page: int) -> str:
    """The link to another page of the list at ``endpoint``: the query string as it came (the list's filters),
    with the page number replaced. The query string goes after url_for's result, never into its arguments,
    where names such as ``endpoint`` or ``_method`` are url_for's own (?endpoint=x made every pager a 500)."""
    view_args = (request.view_args or {}) if endpoint == request.endpoint else {}
    query = [(name, value) for name, value in request.args.items(multi=True) if name not in ("page", "partial")]
    return url_for(endpoint, **view_args) + "?" + urlencode([*query, ("page", page)])


def date_arg(name: str) -> date | None:
    """An ISO date from the query string, or None for garbage and for days whose shop-local bounds in UTC
    would overflow datetime (year 1 or 9999)."""
    try:
        value = date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return None
    return value if date(1900, 1, 1) <= value <= date(9999, 12, 30) else None
