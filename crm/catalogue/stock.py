"""Stock changes only through movements; the item's ``on_hand`` is a cache of their sum, changed in the
same statement as the movement is written, under a condition that it never goes below zero."""

from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from crm.auth.models import StaffUser
from crm.catalogue.models import CatalogueItem, StockMovement
from crm.database import utcnow
from crm.errors import RuleError
from crm.locales import lazy_gettext as _l

# The sign each kind of movement may carry: +1 adds to stock, -1 takes from it, 0 either way.
MOVEMENT_SIGNS = {"received": 1, "sold": -1, "used": -1, "returned": 1, "adjusted": 0}
MOVEMENT_LABELS = {
    "received": _l("Received"),
    "sold": _l("Sold"),
    "used": _l("Used in a repair"),
    "returned": _l("Returned"),
    "adjusted": _l("Adjusted"),
}


class StockError(RuleError):
    pass


def record_movement(session: Session, item: CatalogueItem, kind: str, quantity: int, *,
                    actor: StaffUser | None, reason: str = "", repair_order_id: int | None = None,
                    sale_id: int | None = None, refund_id: int | None = None,
                    now: datetime | None = None, deferred: list | None = None) -> StockMovement | None:
    """Move ``quantity`` (signed) units of a stock-tracked item; items that are not stock-tracked
    (services, made-to-order) have no movements and this returns None.

    The on-hand update is one conditional UPDATE, so two desks selling the last unit at once cannot
    both succeed: the second finds the condition false (PostgreSQL re-checks it after the first
    commits; SQLite serialises writers) and gets a clear message instead of negative stock.

    ``deferred``: the movement's row is appended to this list for the caller to insert with the others
    (write_deferred: a checkout writes the movements of all its items in one statement); returns None then."""
    if kind not in MOVEMENT_SIGNS:
        raise StockError(_l("Unknown kind of stock movement."), field="kind")
    sign = MOVEMENT_SIGNS[kind]
    if quantity == 0 or (sign and quantity * sign < 0):
        raise StockError(_l("Enter a quantity other than zero."), field="quantity")
    if kind == "adjusted" and not reason.strip():
        raise StockError(_l("Say why the stock is adjusted."), field="reason")
    if not item.stock_tracked:
        return None
    new_on_hand = session.scalar(
        update(CatalogueItem)
        .where(CatalogueItem.id == item.id, CatalogueItem.on_hand + quantity >= 0)
        .values(on_hand=CatalogueItem.on_hand + quantity)
        .returning(CatalogueItem.on_hand)
    )
    if new_on_hand is None:
        available = session.scalar(select(CatalogueItem.on_hand).where(CatalogueItem.id == item.id))
        raise StockError(_l("Only %(n)d of %(item)s in stock.", n=available or 0, item=item.name), field="quantity")
    values = dict(item_id=item.id, kind=kind, quantity=quantity, reason=reason.strip(),
                  repair_order_id=repair_order_id, sale_id=sale_id, refund_id=refund_id,
                  created_by_id=actor.id if actor else None, created_at=now or utcnow())
    # Keep the loaded object in step without marking it dirty (no second UPDATE).
    set_committed_value(item, "on_hand", new_on_hand)
    if deferred is not None:
        deferred.append(values)
        return None
    movement = StockMovement(**values)
    session.add(movement)
    session.flush()
    return movement


def write_deferred(session: Session, rows: list) -> None:
    """The movements record_movement(deferred=rows) held back, in one statement."""
    if rows:
        session.execute(insert(StockMovement), rows)


def movements_sum(session: Session, item_id: int) -> int:
    """SUM of the item's movements: what ``on_hand`` must equal (checked by the tests)."""
    return session.scalar(select(func.coalesce(func.sum(StockMovement.quantity), 0))
                          .where(StockMovement.item_id == item_id))
