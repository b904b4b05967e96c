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
