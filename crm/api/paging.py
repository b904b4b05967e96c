"""Cursor pagination for the API: rows in ascending id order, the cursor the id of the last row of the page, so a
page never repeats or skips a row when others are added meanwhile (keyset, not offset)."""

from sqlalchemy import Select
from sqlalchemy.orm import Session

from crm.numbers import MAX_ID

DEFAULT_LIMIT, MAX_LIMIT = 50, 200
CURSOR_PATTERN = r"^[0-9]{1,12}$"  # checked by the query schema (crm/api/schemas.py)


def page(session: Session, stmt: Select, id_column, cursor: str | None, limit: int) -> dict:
    """One page of ``stmt`` (already filtered) after the cursor, and the cursor of the next one (None at the end)."""
    after = min(int(cursor), MAX_ID) if cursor else 0
    rows = list(session.scalars(stmt.where(id_column > after).order_by(id_column).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_cursor": str(rows[-1].id) if more and rows else None}
