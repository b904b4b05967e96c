"""The bill of an open sale as the desk sees it before payment: the repair order's lines as they are now and
the cart's items, priced by crm.sales.pricing. Lines are read once and priced as often as the adjustments change."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.orders.models import RepairOrderLine
from crm.sales import pricing
from crm.sales.models import Sale, SaleLine

REPAIR_CATEGORY = {"labour": "repair_labour", "part": "repair_part"}


@dataclass(frozen=True)
class BillLine:
    """A line of the bill as the desk sees it before payment: an item in the cart (``sale_line_id``)
    or a work or part line of the repair order (``repair_line_id``)."""

    kind: str
    description: str
    quantity: int
    unit_price_minor: int
    discount_minor: int
    category_code: str
    item_id: int | None = None
    sale_line_id: int | None = None
    repair_line_id: int | None = None
    discount_percent: int | None = None

    @property
    def gross_minor(self) -> int:
        return self.quantity * self.unit_price_minor

    def pricing_input(self) -> pricing.LineInput:
        return pricing.LineInput(self.quantity, self.unit_price_minor, self.discount_minor, self.category_code)


@dataclass(frozen=True)
class Bill:
    lines: tuple[BillLine, ...]
    quote: pricing.Quote


def current_bill(session: Session, sale: Sale, adjustments: Sequence[pricing.Adjustment] = ()) -> Bill:
    """The bill of an open sale: the repair order's lines as they are now, then the cart's items, priced."""
    return price_bill(bill_lines(session, sale), adjustments)


def price_bill(lines: Sequence[BillLine], adjustments: Sequence[pricing.Adjustment] = ()) -> Bill:
    """Lines read once (bill_lines) priced with these adjustments: no second trip to the database."""
    return Bill(lines=tuple(lines), quote=pricing.price([line.pricing_input() for line in lines], adjustments))


def bill_lines(session: Session, sale: Sale, sale_lines: Sequence[SaleLine] | None = None) -> tuple[BillLine, ...]:
    """The lines of an open sale as they are now: the repair order's, then the cart's items. ``sale_lines``: the
    cart's rows, in id order, when the caller has just read them with the sale (the cart page, the checkout's
    lock); otherwise they are read here."""
    lines: list[BillLine] = []
    if sale.repair_order_id is not None:
        for rl in session.scalars(select(RepairOrderLine).where(RepairOrderLine.order_id == sale.repair_order_id)
                                  .order_by(RepairOrderLine.id)):
            lines.append(BillLine(kind=rl.kind, description=rl.description, quantity=rl.quantity,
                                  unit_price_minor=rl.unit_price_minor, discount_minor=0,
                                  category_code=REPAIR_CATEGORY[rl.kind], repair_line_id=rl.id))
    if sale_lines is None:
        sale_lines = session.scalars(select(SaleLine).where(SaleLine.sale_id == sale.id).order_by(SaleLine.id))
    for sl in sale_lines:
        lines.append(BillLine(kind=sl.kind, description=sl.description, quantity=sl.quantity,
                              unit_price_minor=sl.unit_price_minor, discount_minor=sl.discount_minor,
                              category_code=sl.category_code, item_id=sl.item_id, sale_line_id=sl.id,
                              discount_percent=sl.discount_percent))
    return tuple(lines)
