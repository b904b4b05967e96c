"""Page numbers in the query string."""

from flask import request

from crm.numbers import MAX_ID, whole_number

__all__ = ["MAX_ID", "page_arg"]


def page_arg(name: str = "page", maximum: int = 100_000) -> int:
    """The page number from the query string; garbage or out-of-range values mean page 1."""
    page = whole_number(request.args.get(name), maximum=maximum)
    return page if page else 1
