"""Catalogue, stock and sales history for the benchmark database (called by bench.generate).

Every picked-up repair gets its paid checkout; walk-in sales of accessories are spread over the shop's
history; payments are cash, card or both. Rows go in with SQLAlchemy Core executemany in batches."""

import random
from datetime import datetime, timedelta

from sqlalchemy import insert, select, text

from crm.catalogue.models import CatalogueItem, ItemCategory, StockMovement
from crm.numbering import NumberCounter
from crm.orders.models import RepairOrder, RepairOrderLine
from crm.sales.models import Payment, Sale, SaleLine

BATCH = 5000
ACCESSORIES = ["Silicone case", "Leather case", "Screen protector", "Charger 20 W", "USB-C cable", "Lightning cable",
               "Power bank 10000 mAh", "Car holder", "Earphones", "Wireless charger"]
MODELS = ["iPhone 11", "iPhone 13", "iPhone 15", "Galaxy A54", "Galaxy S21", "Redmi Note 12", "Moto G54", "Pixel 7"]
CATEGORY_OF_REPAIR_LINE = {"labour": "repair_labour", "part": "repair_part"}


def item_rows(rng: random.Random, accessory_id: int, now: datetime) -> list[dict]:
    rows = []
    for n, (name, model) in enumerate(((a, m) for a in ACCESSORIES for m in MODELS), start=1):
        rows.append(dict(id=n, sku=f"ACC-{n:05d}", name=f"{name} {model}", category_id=accessory_id,
                         price_minor=rng.randrange(10, 200) * 1000, cost_minor=rng.randrange(5, 100) * 1000,
                         stock_tracked=True, on_hand=100_000, reorder_level=5, active=True,
                         search_text=f"acc-{n:05d} {name} {model}".casefold(), created_at=now, updated_at=now))
    return rows


def generate_sales(engine, rng: random.Random, *, customers: int, start: datetime, now: datetime, desk_id: int,
                   walk_ins: int, tick) -> None:
    items, picked, lines_of = _stock_the_catalogue(engine, rng, start=start, now=now, desk_id=desk_id)
    events = _sale_events(rng, picked, customers=customers, start=start, now=now, walk_ins=walk_ins)
    sales, sale_lines, payments = [], [], []
    for sale_id, (paid_at, customer_id, order_id) in enumerate(events, start=1):
        rows = _bill_rows(rng, items, lines_of.get(order_id, []) if order_id else [], repair=bool(order_id))
        total = _add_sale_lines(sale_lines, sale_id, rows)
        sales.append(dict(id=sale_id, number=f"S-{sale_id:06d}", status="paid", customer_id=customer_id,
                          repair_order_id=order_id, subtotal_minor=total, discount_minor=0, total_minor=total,
                          paid_minor=total, change_minor=0, checkout_key=f"bench-{sale_id}", checkout_digest="",
                          created_by_id=desk_id, created_at=paid_at, paid_by_id=desk_id, paid_at=paid_at))
        if total:
            payments += _payment_rows(rng, sale_id, total, paid_at, desk_id)
    _insert_sales(engine, sales, sale_lines, payments)
    tick(f"inserted {len(items):,} catalogue items, {len(sales):,} sales, {len(sale_lines):,} sale lines, "
         f"{len(payments):,} payments")


def _stock_the_catalogue(engine, rng: random.Random, *, start: datetime, now: datetime, desk_id: int):
    """Insert the catalogue with its opening stock; return the items, the picked-up repairs (in the order
    they were closed) and each repair's lines by order id."""
    with engine.begin() as conn:
        accessory_id = conn.scalar(select(ItemCategory.id).where(ItemCategory.code == "accessory"))
        items = item_rows(rng, accessory_id, now)
        conn.execute(insert(CatalogueItem.__table__), items)
        conn.execute(insert(StockMovement.__table__), [
            dict(item_id=i["id"], kind="received", quantity=i["on_hand"], reason="", created_by_id=desk_id,
                 created_at=start) for i in items])
        picked = conn.execute(select(RepairOrder.id, RepairOrder.customer_id, RepairOrder.closed_at)
                              .where(RepairOrder.status == "picked_up").order_by(RepairOrder.closed_at)).all()
        lines_of = {}
        for row in conn.execute(select(RepairOrderLine.id, RepairOrderLine.order_id, RepairOrderLine.kind,
                                       RepairOrderLine.description, RepairOrderLine.quantity,
                                       RepairOrderLine.unit_price_minor)):
            lines_of.setdefault(row.order_id, []).append(row)
    return items, picked, lines_of


def _sale_events(rng: random.Random, picked, *, customers: int, start: datetime, now: datetime,
                 walk_ins: int) -> list[tuple]:
    """(paid_at, customer_id, repair order id or None) of every sale, in time order: each picked-up repair
    when it was closed, and walk-ins (half anonymous) at random times over the history."""
    events = [(r.closed_at, r.customer_id, r.id) for r in picked]
    span = (now - start).total_seconds()
    events += [(start + timedelta(seconds=rng.random() * span), rng.choice([None, rng.randint(1, customers)]), None)
               for _ in range(walk_ins)]
    events.sort(key=lambda e: e[0])
    return events


def _bill_rows(rng: random.Random, items: list[dict], repair_lines, *, repair: bool) -> list[dict]:
    """A sale's lines: the repair's work and parts copied, then accessories (fewer with a repair)."""
    rows = []
    for rl in repair_lines:
        rows.append(dict(kind=rl.kind, item_id=None, repair_line_id=rl.id,
                         category_code=CATEGORY_OF_REPAIR_LINE[rl.kind], description=rl.description,
                         quantity=rl.quantity, unit_price_minor=rl.unit_price_minor))
    for item in rng.sample(items, rng.choice([0, 1, 1, 2]) if repair else rng.choice([1, 1, 2, 3])):
        rows.append(dict(kind="item", item_id=item["id"], repair_line_id=None, category_code="accessory",
                         description=item["name"], quantity=1, unit_price_minor=item["price_minor"]))
    return rows


def _add_sale_lines(sale_lines: list[dict], sale_id: int, rows: list[dict]) -> int:
    """Append the sale's lines (ids continue across sales, no discounts); returns the sale's total."""
    total = 0
    for row in rows:
        amount = row["quantity"] * row["unit_price_minor"]
        total += amount
        sale_lines.append(dict(id=len(sale_lines) + 1, sale_id=sale_id, discount_minor=0, adjustment_minor=0,
                               total_minor=amount, refunded_quantity=0, refunded_minor=0, discount_percent=None,
                               **row))
    return total


def _payment_rows(rng: random.Random, sale_id: int, total: int, paid_at: datetime, desk_id: int) -> list[dict]:
    """All in cash for 40% of the sales, half cash and half card for 12%, the rest by card."""
    cash = total if rng.random() < 0.4 else (total // 2 if rng.random() < 0.2 else 0)
    return [dict(sale_id=sale_id, method=method, amount_minor=amount, tendered_minor=amount, taken_by_id=desk_id,
                 taken_at=paid_at) for method, amount in (("cash", cash), ("card", total - cash)) if amount]


def _insert_sales(engine, sales: list[dict], sale_lines: list[dict], payments: list[dict]) -> None:
    with engine.begin() as conn:
        for table, rows in ((Sale, sales), (SaleLine, sale_lines), (Payment, payments)):
            for i in range(0, len(rows), BATCH):
                conn.execute(insert(table.__table__), rows[i:i + BATCH])
        conn.execute(insert(NumberCounter.__table__), [{"name": "sale", "value": len(sales)}])
        if conn.dialect.name == "postgresql":
            for table in (CatalogueItem, StockMovement, Sale, SaleLine, Payment):
                name = table.__tablename__
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                                  f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {name}), false)"))
