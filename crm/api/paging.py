"""Cursor pagination for the API: rows in ascending id order, the cursor an opaque token of the last id seen,
so a page never repeats or skips a row when others are added meanwhile (keyset, not offset)."""

import base64
import binascii

from sqlalchemy import Select
from sqlalchemy.orm import Session
from werkzeug.exceptions import UnprocessableEntity

from crm.numbers import MAX_ID

DEFAULT_LIMIT, MAX_LIMIT = 50, 200


def encode(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{last_id}".encode()).decode().rstrip("=")


def decode(cursor: str | None) -> int:
    """The id after which the page starts (0: the first page); a damaged cursor is a 422 on the field."""
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        version, _, value = text.partition(":")
        last_id = int(value)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        last_id = -1
        version = ""
    if version != "v1" or not 0 <= last_id <= MAX_ID:
        error = UnprocessableEntity("The cursor is not one this API gave out.")
        error.data = {"messages": {"query": {"cursor": ["Not a valid cursor."]}}}
        raise error
    return last_id


def page(session: Session, stmt: Select, id_column, cursor: str | None, limit: int) -> dict:
    """One page of ``stmt`` (already filtered) and the cursor of the next one (None at the end)."""
    after = decode(cursor)
    rows = list(session.scalars(stmt.where(id_column > after).order_by(id_column).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_cursor": encode(rows[-1].id) if more and rows else None}
