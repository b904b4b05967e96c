"""Finding customers by any fragment of the name, the e-mail or the phone digits (docs/search.md).

The fragment (search_fragment) is what the desk typed without control characters, trimmed, at most 100
characters; phone-looking input (digits, spaces, + ( ) . / -) is reduced to its digits, anything else is
case-folded. A customer matches when `search_text` (case-folded name, e-mail, international and national
phone digits, space-separated) contains the fragment. Newest customer first.

SQLite answers from the FTS5 trigram index (crm.search_index), PostgreSQL from LIKE over its trigram index;
`like_customer_ids` is the plain LIKE query both are compared against in the tests.
"""

import re

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import Session

from crm.customers.models import Customer
from crm.search_index import (
    like_pattern,
    match_expression,
    matching_rowids,
    plan_for_the_fragment,
    short_fragment_match,
    uses_fts,
    window_ids,
)
from crm.text import CONTROL_CHARACTERS

_PHONE_LIKE = re.compile(r"^[\d\s+()./-]+$")
FTS_TABLE = "customers_customer_fts"


def search_fragment(query: str | None) -> str | None:
    """The substring to look for in `search_text`, or None when nothing was typed."""
    typed = CONTROL_CHARACTERS.sub("", query or "").strip()[:100]
    if not typed:
        return None
    if _PHONE_LIKE.match(typed):
        return "".join(ch for ch in typed if ch.isdigit()) or None
    return typed.casefold()


def search_pattern(query: str | None) -> str | None:
    """The LIKE pattern of the fragment (`\\` escapes % and _)."""
    fragment = search_fragment(query)
    return like_pattern(fragment) if fragment else None


def like_customer_ids(fragment: str):
    """The customers whose search_text contains the fragment, as a select of ids (the plain LIKE)."""
    return select(Customer.id).where(Customer.search_text.like(like_pattern(fragment), escape="\\"))


def _page(session: Session, stmt, offset: int, limit: int) -> list[Customer]:
    return list(session.scalars(stmt.offset(offset).limit(limit)))


def _paged(stmt):
    return stmt.offset(bindparam("offset")).limit(bindparam("limit"))


# The searches the desk runs as it types, built once (building one and its cache key cost more than SQLite running
# it); the fragment, the offset and the limit are parameters. One- and two-character fragments are built per search.
_NEWEST = _paged(select(Customer).order_by(Customer.id.desc()))
_FTS_FOUND = matching_rowids(FTS_TABLE, bindparam("match"))
_FTS_MATCHES = _paged(select(Customer).join(_FTS_FOUND, _FTS_FOUND.c.id == Customer.id)
                      .order_by(_FTS_FOUND.c.id.desc()))
_LIKE_MATCHES = _paged(select(Customer).where(Customer.search_text.like(bindparam("pattern"), escape="\\"))
                       .order_by(Customer.id.desc()))


def _fts_page(session: Session, fragment: str, offset: int, limit: int) -> list[Customer]:
    if len(fragment) < 3:
        ids = window_ids(session, select(Customer.id), Customer.id, like_customer_ids(fragment), offset + limit)
        if ids is not None:
            ids = ids[offset:]
            return _page(session, select(Customer).where(Customer.id.in_(ids)).order_by(Customer.id.desc()),
                         0, limit) if ids else []
    match = match_expression(session, FTS_TABLE, fragment)
    if match is None:
        return []
    return list(session.scalars(_FTS_MATCHES, {"match": match, "offset": offset, "limit": limit}))


def search_customers(session: Session, query: str, *, page: int = 1, per_page: int = 25) -> tuple[list[Customer], bool]:
    """A page of customers matching any fragment of phone, name or e-mail, newest first.

    Returns the page and whether a next page exists (no COUNT over the whole table)."""
    fragment = search_fragment(query)
    offset, limit = (max(page, 1) - 1) * per_page, per_page + 1
    if fragment is None:
        rows = list(session.scalars(_NEWEST, {"offset": offset, "limit": limit}))
    elif uses_fts(session):
        rows = _fts_page(session, fragment, offset, limit)
    elif len(fragment) >= 3:  # PostgreSQL: the trigram index
        plan_for_the_fragment(session)
        rows = list(session.scalars(_LIKE_MATCHES, {"pattern": like_pattern(fragment), "offset": offset,
                                                    "limit": limit}))
    else:  # PostgreSQL, one or two characters: the index of 0023 as well
        plan_for_the_fragment(session)
        matches = and_(Customer.search_text.like(like_pattern(fragment), escape="\\"),
                       short_fragment_match(Customer.search_text, fragment))
        rows = _page(session, select(Customer).where(matches).order_by(Customer.id.desc()), offset, limit)
    return rows[:per_page], len(rows) > per_page
