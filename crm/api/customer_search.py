"""The desk's customer search (crm.customers.search) as pages for other programs.

The same rule, from the same functions: what was typed becomes the fragment by ``search_fragment`` (digits of a
phone-looking input, else the case-folded text), and a customer matches when their ``search_text`` contains it,
answered by the same index (SQLite's FTS5 trigram table through ``match_expression`` / ``matching_rowids``,
PostgreSQL's trigram index under LIKE). Newest first, as at the desk. What differs is the paging: the desk counts
pages (offsets, which shift when a customer is added); here a page continues below the last id of the one before,
so paging while customers are added neither repeats nor skips one. Erased customers are never listed (their
search text is empty, but an empty query would list them)."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.customers.models import Customer
from crm.customers.search import FTS_TABLE, search_fragment
from crm.search_index import like_pattern, match_expression, matching_rowids, uses_fts


def customers_page(session: Session, query: str, *, before_id: int | None, limit: int) -> tuple[list[Customer], bool]:
    """Up to ``limit`` matching customers with an id below ``before_id`` (None: from the newest), and whether more
    follow."""
    fragment = search_fragment(query)
    stmt = select(Customer).where(Customer.erased_at.is_(None))
    if before_id is not None:
        stmt = stmt.where(Customer.id < before_id)
    if fragment is None:
        stmt = stmt.order_by(Customer.id.desc())
    elif uses_fts(session):
        match = match_expression(session, FTS_TABLE, fragment)
        if match is None:
            return [], False
        found = matching_rowids(FTS_TABLE, match)
        stmt = stmt.join(found, found.c.id == Customer.id).order_by(found.c.id.desc())
    else:
        stmt = (stmt.where(Customer.search_text.like(like_pattern(fragment), escape="\\"))
                .order_by(Customer.id.desc()))
    rows = list(session.scalars(stmt.limit(limit + 1)))
    return rows[:limit], len(rows) > limit
