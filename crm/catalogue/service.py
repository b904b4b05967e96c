"""Catalogue rules: items with a unique SKU, categories (rows, not code), search as the desk types,
the low-stock list, and receiving or adjusting stock (through crm.catalogue.stock, the only way it changes)."""

import re
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session, joinedload

from crm import audit
from crm.auth.models import StaffUser
from crm.catalogue.models import CatalogueItem, ItemCategory, StockMovement
from crm.catalogue.stock import StockError, record_movement
from crm.database import utcnow
from crm.errors import RuleError
from crm.locales import lazy_gettext as _l
from crm.locales import lazy_ngettext as _ln
from crm.money import MAX_AMOUNT_MINOR
from crm.text import CONTROL_CHARACTERS

# One movement and the stock of one item stay far inside the 32-bit INTEGER columns.
MAX_MOVEMENT = 100_000
MAX_ON_HAND = 10_000_000
MAX_REORDER_LEVEL = 100_000
# Category codes that sale lines already use for repair work and parts (loyalty earn rates key on them).
RESERVED_CODES = frozenset({"repair_labour", "repair_part"})


class CatalogueError(RuleError):
    pass


class DuplicateSku(CatalogueError):
    """The SKU belongs to another item; ``existing`` is that item."""

    def __init__(self, existing: CatalogueItem):
        super().__init__(_l("SKU %(sku)s is already used by “%(name)s”.", sku=existing.sku, name=existing.name),
                         field="sku")
        self.existing = existing


@dataclass
class ItemData:
    sku: str
    name: str
    category_id: int
    price_minor: int
    cost_minor: int = 0
    stock_tracked: bool = True
    reorder_level: int = 0
    active: bool = True


def normalize_sku(sku: str) -> str:
    """What is stored and looked up: trimmed and upper-cased, so "case-11" finds "CASE-11"."""
    return (sku or "").strip().upper()


def find_by_sku(session: Session, sku: str, *, active_only: bool = False) -> CatalogueItem | None:
    stmt = select(CatalogueItem).where(CatalogueItem.sku == normalize_sku(sku))
    if active_only:
        stmt = stmt.where(CatalogueItem.active.is_(True))
    return session.scalar(stmt)


def _validate(session: Session, data: ItemData, sku: str) -> None:
    if not sku:
        raise CatalogueError(_l("Enter the SKU."), field="sku")
    if len(sku) > 40 or any(ch.isspace() for ch in sku):
        raise CatalogueError(_l("A SKU has at most 40 characters and no spaces."), field="sku")
    if not data.name.strip():
        raise CatalogueError(_l("Enter the name."), field="name")
    if session.get(ItemCategory, data.category_id) is None:
        raise CatalogueError(_l("Choose a category."), field="category_id")
    for field, value in (("price", data.price_minor), ("cost", data.cost_minor)):
        if not 0 <= value <= MAX_AMOUNT_MINOR:
            raise CatalogueError(_l("Enter an amount between zero and the maximum."), field=field)
    if not 0 <= data.reorder_level <= MAX_REORDER_LEVEL:
        raise CatalogueError(_l("The reorder level is between 0 and %(n)d.", n=MAX_REORDER_LEVEL),
                             field="reorder_level")


@contextmanager
def _unique_sku(session: Session, sku: str):
    """The UNIQUE constraint decides when two managers add the same SKU at once; the savepoint
    (opened before the change, as begin_nested() flushes what is pending) undoes only this change."""
    try:
        with session.begin_nested():
            yield
            session.flush()
    except IntegrityError:
        existing = find_by_sku(session, sku)
        if existing is None:
            raise
        raise DuplicateSku(existing) from None


def _apply(item: CatalogueItem, data: ItemData, sku: str) -> None:
    item.sku = sku
    item.name = data.name.strip()
    item.category_id = data.category_id
    item.price_minor = data.price_minor
    item.cost_minor = data.cost_minor
    item.stock_tracked = data.stock_tracked
    item.reorder_level = data.reorder_level
    item.active = data.active
    item.search_text = f"{sku.casefold()} {item.name.casefold()}"


def create_item(session: Session, data: ItemData, *, now: datetime | None = None) -> CatalogueItem:
    """Add an item. The SKU is trimmed and upper-cased and belongs to one item only."""
    sku = normalize_sku(data.sku)
    _validate(session, data, sku)
    existing = find_by_sku(session, sku)
    if existing is not None:
        raise DuplicateSku(existing)
    now = now or utcnow()
    item = CatalogueItem(on_hand=0, created_at=now, updated_at=now)
    with _unique_sku(session, sku):
        _apply(item, data, sku)
        session.add(item)
    return item


def update_item(session: Session, item: CatalogueItem, data: ItemData, *, actor: StaffUser | None = None,
                now: datetime | None = None) -> CatalogueItem:
    """Change an item. Stock tracking cannot be switched off while units are on hand: the stock
    would stay frozen at that number (bring it to zero with an adjustment first). A changed price or cost is a
    line in the audit log."""
    sku = normalize_sku(data.sku)
    _validate(session, data, sku)
    existing = find_by_sku(session, sku)
    if existing is not None and existing.id != item.id:
        raise DuplicateSku(existing)
    if item.stock_tracked and not data.stock_tracked and item.on_hand:
        raise CatalogueError(_ln("%(num)d unit is in stock: adjust the stock to zero before you stop tracking it.",
                                 "%(num)d units are in stock: adjust the stock to zero before you stop tracking it.",
                                 item.on_hand), field="stock_tracked")
    old = {"price_minor": item.price_minor, "cost_minor": item.cost_minor}
    with _unique_sku(session, sku):
        _apply(item, data, sku)
    for name, value in old.items():
        if value != getattr(item, name):
            audit.record_change(session, f"item:{item.id}", name, value, getattr(item, name), actor, now,
                                area="prices")
    return item


def _typed(text: str | None) -> str:
    return CONTROL_CHARACTERS.sub("", text or "").strip()[:100]


def search_pattern(text: str) -> str | None:
    """The LIKE pattern for what the desk typed, matched against the case-folded SKU and name."""
    cleaned = _typed(text).casefold()
    if not cleaned:
        return None
    escaped = cleaned.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_items(session: Session, text: str, *, page: int = 1, per_page: int = 25,
                 active_only: bool = False) -> tuple[list[CatalogueItem], bool]:
    """A page of items whose SKU or name contains what was typed, with their categories loaded.

    An exact SKU (a scanned barcode) comes first, then active items before inactive ones,
    alphabetically. Returns the page and whether a next page exists (no COUNT)."""
    stmt = select(CatalogueItem).options(joinedload(CatalogueItem.category))
    pattern = search_pattern(text)
    order = []
    if pattern:
        stmt = stmt.where(CatalogueItem.search_text.like(pattern, escape="\\"))
        order.append(case((CatalogueItem.sku == normalize_sku(_typed(text))[:40], 0), else_=1))
    if active_only:
        stmt = stmt.where(CatalogueItem.active.is_(True))
    else:
        order.append(CatalogueItem.active.desc())
    stmt = stmt.order_by(*order, CatalogueItem.name, CatalogueItem.id)
    page = max(page, 1)
    rows = list(session.scalars(stmt.offset((page - 1) * per_page).limit(per_page + 1)))
    return rows[:per_page], len(rows) > per_page


def low_stock_items(session: Session, *, page: int = 1, per_page: int = 100) -> tuple[list[CatalogueItem], bool]:
    """Active stock-tracked items at or below their reorder level, emptiest (relative to it) first."""
    stmt = (select(CatalogueItem).options(joinedload(CatalogueItem.category))
            .where(CatalogueItem.stock_tracked.is_(True), CatalogueItem.active.is_(True),
                   CatalogueItem.on_hand <= CatalogueItem.reorder_level)
            .order_by(CatalogueItem.on_hand - CatalogueItem.reorder_level, CatalogueItem.name, CatalogueItem.id))
    page = max(page, 1)
    rows = list(session.scalars(stmt.offset((page - 1) * per_page).limit(per_page + 1)))
    return rows[:per_page], len(rows) > per_page


# --- stock ------------------------------------------------------------------------------------------

def _move(session: Session, item: CatalogueItem, kind: str, quantity: int, *, actor: StaffUser | None,
          reason: str, now: datetime | None) -> StockMovement:
    if not item.stock_tracked:
        raise CatalogueError(_l("This item is not stock-tracked."), field="quantity")
    if quantity == 0:
        raise CatalogueError(_l("Enter a quantity other than zero."), field="quantity")
    if abs(quantity) > MAX_MOVEMENT:
        raise CatalogueError(_ln("At most %(num)d unit at a time.", "At most %(num)d units at a time.", MAX_MOVEMENT),
                             field="quantity")
    if item.on_hand + quantity > MAX_ON_HAND:
        raise CatalogueError(_ln("More than %(num)d unit cannot be in stock.",
                                 "More than %(num)d units cannot be in stock.", MAX_ON_HAND), field="quantity")
    try:
        return record_movement(session, item, kind, quantity, actor=actor, reason=reason, now=now)
    except StockError as exc:
        raise CatalogueError(exc.message, field=exc.field) from None


def receive_stock(session: Session, item: CatalogueItem, quantity: int, *, actor: StaffUser | None,
                  note: str = "", now: datetime | None = None) -> StockMovement:
    """Goods in: ``quantity`` (> 0) units added to stock."""
    if quantity <= 0:
        raise CatalogueError(_l("Enter how many units came in."), field="quantity")
    return _move(session, item, "received", quantity, actor=actor, reason=note, now=now)


def adjust_stock(session: Session, item: CatalogueItem, quantity: int, *, actor: StaffUser | None,
                 reason: str, now: datetime | None = None) -> StockMovement:
    """A correction after a count, breakage or loss: signed, never to below zero, always with a reason; a line
    in the audit log."""
    if not (reason or "").strip():
        raise CatalogueError(_l("Say why the stock is adjusted."), field="reason")
    movement = _move(session, item, "adjusted", quantity, actor=actor, reason=reason, now=now)
    audit.record(session, actor, "adjust", "item", item.id,
                 {"sku": item.sku, "quantity": quantity, "on_hand": item.on_hand, "movement": movement.id,
                  "reason": movement.reason}, area="stock", now=now)
    return movement


@dataclass(frozen=True)
class MovementLine:
    movement: StockMovement
    numbers: dict[str, str | None]  # the number of what the movement belongs to, by StockMovement column


# What a movement belongs to (a repair order, a sale) lives in the modules above the catalogue, which register
# the number column of their rows here: the catalogue cannot import them, they import it.
_MOVEMENT_SOURCES: dict[str, InstrumentedAttribute] = {}


def register_movement_source(column: str, number: InstrumentedAttribute) -> None:
    """``column``: the StockMovement column holding the row's id ("sale_id"); ``number``: e.g. Sale.number."""
    _MOVEMENT_SOURCES[column] = number


def item_movements(session: Session, item_id: int, *, page: int = 1,
                   per_page: int = 50) -> tuple[list[MovementLine], bool]:
    """An item's movements, newest first, with who made them and the order or sale they belong to,
    in one statement whatever the number of rows."""
    sources = list(_MOVEMENT_SOURCES.items())
    stmt = select(StockMovement, *(number for _column, number in sources))
    for column, number in sources:
        stmt = stmt.outerjoin(number.class_, number.class_.id == getattr(StockMovement, column))
    stmt = (stmt.options(joinedload(StockMovement.created_by))
            .where(StockMovement.item_id == item_id)
            .order_by(StockMovement.id.desc()))
    page = max(page, 1)
    rows = session.execute(stmt.offset((page - 1) * per_page).limit(per_page + 1)).all()
    lines = [MovementLine(row[0], {column: row[i + 1] for i, (column, _number) in enumerate(sources)})
             for row in rows]
    return lines[:per_page], len(lines) > per_page


# --- categories -------------------------------------------------------------------------------------

def slug(name: str) -> str:
    """"Spare parts" -> "spare_parts"; letters outside ASCII lose their accents or drop out."""
    ascii_text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_text.lower()).strip("_")[:32] or "category"


def categories(session: Session) -> list[tuple[ItemCategory, int]]:
    """Every category with the number of items in it, by name."""
    counts = (select(CatalogueItem.category_id, func.count().label("n"))
              .group_by(CatalogueItem.category_id).subquery())
    stmt = (select(ItemCategory, func.coalesce(counts.c.n, 0))
            .outerjoin(counts, counts.c.category_id == ItemCategory.id).order_by(ItemCategory.name))
    return [(category, n) for category, n in session.execute(stmt)]


def _clean_name(session: Session, name: str, exclude_id: int | None) -> str:
    cleaned = (name or "").strip()
    if not cleaned:
        raise CatalogueError(_l("Enter the category's name."), field="name")
    if len(cleaned) > 80:
        raise CatalogueError(_l("A category name has at most 80 characters."), field="name")
    same = session.scalar(select(ItemCategory).where(func.lower(ItemCategory.name) == cleaned.lower()))
    if same is not None and same.id != exclude_id:
        raise CatalogueError(_l("There is a category “%(name)s” already.", name=same.name), field="name")
    return cleaned


def create_category(session: Session, name: str, *, now: datetime | None = None) -> ItemCategory:
    """A new category; its code (the stable key other modules use) is slugged from the name and made
    unique with a number if needed. The code never changes afterwards."""
    cleaned = _clean_name(session, name, exclude_id=None)
    base = slug(cleaned)
    taken = set(session.scalars(select(ItemCategory.code).where(ItemCategory.code.startswith(base, autoescape=True))))
    taken |= RESERVED_CODES
    code, n = base, 1
    while code in taken:
        n += 1
        code = f"{base}_{n}"
    category = ItemCategory(code=code, name=cleaned, created_at=now or utcnow())
    try:
        with session.begin_nested():
            session.add(category)
            session.flush()
    except IntegrityError:
        raise CatalogueError(_l("Someone added this category at the same moment; reload the page."),
                             field="name") from None
    return category


def rename_category(session: Session, category: ItemCategory, name: str) -> ItemCategory:
    """Change the name the shop sees; the code stays, so nothing keyed on it breaks."""
    cleaned = _clean_name(session, name, exclude_id=category.id)
    try:
        with session.begin_nested():
            category.name = cleaned
            session.flush()
    except IntegrityError:
        raise CatalogueError(_l("Someone used this name at the same moment; reload the page."),
                             field="name") from None
    return category


def all_categories(session: Session) -> list[ItemCategory]:
    return list(session.scalars(select(ItemCategory).order_by(ItemCategory.name)))
