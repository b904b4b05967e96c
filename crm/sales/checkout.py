"""Carts and the one checkout that pays for a repair, accessories, or both.

A sale is an open cart until checkout() turns it into a paid sale in one transaction: the bill is
priced on the server (crm.sales.pricing), stock is taken, payments are recorded, a repair order
becomes "picked up". The checkout form carries a one-time key stored on the sale under a UNIQUE
constraint: the same form posted twice replays the first result, two desks paying the same bill get
one success and one clear refusal."""

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, joinedload

from crm.auth.models import StaffUser
from crm.catalogue.models import CatalogueItem, ItemCategory
from crm.catalogue.service import register_movement_source
from crm.catalogue.stock import StockError, record_movement, write_deferred
from crm.customers.models import Customer
from crm.database import utcnow
from crm.errors import RuleError
from crm.loading import attach
from crm.locales import lazy_gettext as _l
from crm.money import InvalidAmount, parse_amount
from crm.numbering import next_number
from crm.orders.models import RepairOrder
from crm.orders.service import OrderError, change_status, lock_order
from crm.orders.status import Status
from crm.sales import loyalty as sale_loyalty
from crm.sales import messages, pricing
from crm.sales.bill import Bill, bill_lines, price_bill
from crm.sales.models import Payment, Sale, SaleLine, SaleStatus
from crm.webhooks import events as webhook_events

MAX_QUANTITY = 1000
register_movement_source("sale_id", Sale.number)

PAYMENT_METHOD_LABELS = {"cash": _l("Cash"), "card": _l("Card"), "bank_transfer": _l("Bank transfer")}


def payment_method_label(code: str) -> str:
    return str(PAYMENT_METHOD_LABELS.get(code, code.replace("_", " ").capitalize()))


class CheckoutError(RuleError):
    pass


class AlreadyPaid(CheckoutError):
    def __init__(self, sale: Sale):
        super().__init__(_l("This bill was already paid (receipt %(number)s).", number=sale.number), field="payments")
        self.sale = sale


def _require_open(sale: Sale) -> None:
    if sale.status != SaleStatus.OPEN:
        raise CheckoutError(_l("This sale is already paid and cannot be changed."))


def open_sale(session: Session, *, actor: StaffUser | None, customer: Customer | None = None,
              now: datetime | None = None) -> Sale:
    """A new cart for a walk-in (or a known customer) buying from the catalogue."""
    sale = Sale(status=SaleStatus.OPEN, customer_id=customer.id if customer else None,
                created_by_id=actor.id if actor else None, created_at=now or utcnow())
    session.add(sale)
    session.flush()
    return sale


def sale_for_repair(session: Session, order_id: int, *, actor: StaffUser | None,
                    now: datetime | None = None) -> Sale:
    """The cart that pays for a repair order: there is at most one per order (UNIQUE), so two desks
    opening the checkout of the same order work on the same bill."""
    order = lock_order(session, order_id)
    if order is None:
        raise CheckoutError(_l("This order does not exist."))
    existing = session.scalar(select(Sale).where(Sale.repair_order_id == order.id))
    if existing is not None:
        return existing
    if order.status != Status.READY:
        raise CheckoutError(_l("Only an order that is ready for pickup can be checked out; it is %(status)s.",
                               status=Status(order.status).label))
    try:
        with session.begin_nested():
            sale = Sale(status=SaleStatus.OPEN, customer_id=order.customer_id, repair_order_id=order.id,
                        created_by_id=actor.id if actor else None, created_at=now or utcnow())
            session.add(sale)
    except IntegrityError:
        return session.scalars(select(Sale).where(Sale.repair_order_id == order.id)).one()
    return sale


def set_customer(session: Session, sale: Sale, customer: Customer | None) -> None:
    _require_open(sale)
    if sale.repair_order_id is not None:
        raise CheckoutError(_l("The customer of a repair's bill is the order's customer."), field="customer")
    sale.customer_id = customer.id if customer else None
    session.flush()


def parse_discount(text: str | None, currency: str) -> tuple[int | None, int | None]:
    """'10%' -> (None, 1000 basis points); '25.50' -> (2550 minor units, None); '' -> (None, None)."""
    cleaned = (text or "").strip()
    if not cleaned:
        return None, None
    if cleaned.endswith("%"):
        try:
            # Two decimals of a percent at most: 12.5% -> 1250 basis points.
            basis_points = parse_amount(cleaned[:-1], "USD")
        except InvalidAmount:
            raise CheckoutError(_l("Write an amount like 25.50 or a percentage like 10%."), field="discount") from None
        if basis_points > pricing.BASIS_POINTS:
            raise CheckoutError(_l("A discount is between 0 and 100%."), field="discount")
        return None, basis_points
    try:
        return parse_amount(cleaned, currency), None
    except InvalidAmount as error:
        raise CheckoutError(error.message, field="discount") from None


def add_item(session: Session, sale: Sale, item: CatalogueItem, quantity: int, *, discount_minor: int | None = None,
             discount_percent: int | None = None) -> SaleLine:
    """Put an item in the cart. Stock is checked here for the desk's sake and taken at checkout."""
    _require_open(sale)
    if not item.active:
        raise CheckoutError(_l("This item is no longer sold."), field="item")
    if not 1 <= quantity <= MAX_QUANTITY:
        raise CheckoutError(_l("Quantity must be between 1 and %(n)d.", n=MAX_QUANTITY), field="quantity")
    if item.stock_tracked:
        in_cart = sum(session.scalars(select(SaleLine.quantity).where(SaleLine.sale_id == sale.id,
                                                                      SaleLine.item_id == item.id)))
        if in_cart + quantity > item.on_hand:
            raise CheckoutError(_l("Only %(n)d of %(item)s in stock.", n=item.on_hand, item=item.name),
                                field="quantity")
    gross = quantity * item.price_minor
    try:
        discount = pricing.line_discount(gross, amount_minor=discount_minor, basis_points=discount_percent)
    except pricing.PricingError as error:
        raise CheckoutError(error.message, field="discount") from None
    code = session.scalar(select(ItemCategory.code).where(ItemCategory.id == item.category_id))
    line = SaleLine(sale_id=sale.id, kind="item", item_id=item.id, category_code=code, description=item.name,
                    quantity=quantity, unit_price_minor=item.price_minor, discount_percent=discount_percent,
                    discount_minor=discount, total_minor=gross - discount)
    session.add(line)
    session.flush()
    return line


def remove_line(session: Session, sale: Sale, line_id: int) -> None:
    _require_open(sale)
    line = session.scalar(select(SaleLine).where(SaleLine.id == line_id, SaleLine.sale_id == sale.id))
    if line is None:
        raise CheckoutError(_l("This line is not on this bill."))
    session.delete(line)
    session.flush()


def discard(session: Session, sale: Sale) -> None:
    """Drop an open cart (nothing was taken from stock or paid)."""
    _require_open(sale)
    session.delete(sale)
    session.flush()


def _digest(sale_id: int, tenders: Sequence[pricing.Tender], expected_total_minor: int,
            adjustments: Sequence[pricing.Adjustment], loyalty: sale_loyalty.LoyaltyRequest) -> str:
    content = {
        "sale": sale_id,
        "total": expected_total_minor,
        "tenders": sorted([t.method, t.amount_minor] for t in tenders if t.amount_minor),
        "adjustments": [[a.kind, a.amount_minor, a.reference] for a in adjustments],
        "loyalty": loyalty.digest_part(),
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def find_by_key(session: Session, key: str) -> Sale | None:
    return session.scalar(select(Sale).where(Sale.checkout_key == key))


def checkout(session: Session, sale_id: int, *, key: str, tenders: Sequence[pricing.Tender],
             expected_total_minor: int, actor: StaffUser, payment_methods: Sequence[str], number_prefix: str,
             adjustments: Sequence[pricing.Adjustment] = (), loyalty: sale_loyalty.LoyaltyRequest | None = None,
             now: datetime | None = None) -> Sale:
    """Pay an open sale. Returns the paid sale; the same key and content again returns it unchanged.

    ``loyalty`` is what the desk chose (points to spend, a coupon): the tier discount, the coupon and
    the points are worked out again here under the customer's lock (crm.sales.loyalty), and the
    ledger entries, the coupon's use and the tier upgrade are written in this same transaction.

    ``expected_total_minor`` is the total the desk was shown: if the bill changed since (a technician
    added a line, another desk removed an item) the checkout is refused rather than charging an
    amount nobody saw. It is never used as the amount: the server prices the bill itself.

    Locks are taken in the order sale, order, loyalty account, items, coupon (docs/architecture.md)."""
    now = now or utcnow()
    if not key or len(key) > 64:
        raise CheckoutError(_l("This form has expired; open the checkout again."))
    loyalty = loyalty or sale_loyalty.LoyaltyRequest()
    digest = _digest(sale_id, tenders, expected_total_minor, adjustments, loyalty)
    sale, key_used_by = _lock_sale(session, sale_id, key)
    if sale.status == SaleStatus.PAID:
        return _replay(sale, key, digest)
    _check_form(key_used_by, tenders, payment_methods)
    order = _lock_ready_order(session, sale)
    bill, the_plan = _price_with_loyalty(session, sale, adjustments, loyalty, now,
                                         warranty_return=order is not None and order.warranty_of_id is not None)
    settlement = _settle(bill, order, expected_total_minor, tenders)

    rows = _record_lines(session, sale, bill, the_plan, actor, now)
    _record_payment(session, sale, bill, settlement, key=key, digest=digest, actor=actor,
                    number_prefix=number_prefix, now=now)
    sale_loyalty.record(session, sale, rows, the_plan, actor=actor, now=now)
    if order is not None:
        _hand_back(session, order, sale, actor, now)
    webhook_events.sale_paid(session, sale, now=now)
    session.flush()
    return sale


_OTHER_SALE = aliased(Sale)
# Built once (crm.loading: the lines without selectinload); both read afresh (populate_existing).
_LOCKED_SALE = (select(Sale, select(_OTHER_SALE.id).where(_OTHER_SALE.checkout_key == bindparam("key"))
                       .scalar_subquery())
                .where(Sale.id == bindparam("sale_id")).options(joinedload(Sale.customer))
                .with_for_update(of=Sale).execution_options(populate_existing=True))
_LINES_WITH_ITEMS = (select(SaleLine).where(SaleLine.sale_id == bindparam("sale_id")).order_by(SaleLine.id)
                     .options(joinedload(SaleLine.item)).execution_options(populate_existing=True))


def _lock_sale(session: Session, sale_id: int, key: str) -> tuple[Sale, int | None]:
    """The sale, locked first and read afresh: a desk that waited for the lock sees the other desk's
    payment rather than paying the bill again. In the same statement: its customer and the sale (if any)
    that already carries this form's key; its lines with their catalogue items follow in a second one."""
    row = session.execute(_LOCKED_SALE, {"sale_id": sale_id, "key": key}).first()
    if row is None:
        raise CheckoutError(_l("This sale does not exist."))
    attach(row[0], "lines", session.scalars(_LINES_WITH_ITEMS, {"sale_id": sale_id}), back="sale")
    return row[0], row[1]


def _replay(sale: Sale, key: str, digest: str) -> Sale:
    """A paid sale again: the same form (key and content) gets the first result; the same key with
    other payments, or another desk's form, is refused with the receipt to look at."""
    if sale.checkout_key == key:
        if sale.checkout_digest == digest:
            return sale  # the same form again: the first result stands
        raise CheckoutError(_l("This checkout form was already submitted with other payments; "
                               "open the receipt to see what was paid."), field="payments")
    raise AlreadyPaid(sale)


def _check_form(key_used_by: int | None, tenders: Sequence[pricing.Tender], payment_methods: Sequence[str]) -> None:
    """A form's key pays one bill only, and every payment uses a method the shop takes."""
    if key_used_by is not None:
        raise CheckoutError(_l("This form was already used for another bill; open the checkout again."))
    for tender in tenders:
        if tender.method not in payment_methods:
            raise CheckoutError(_l("Choose a payment method."), field="payments")


def _lock_ready_order(session: Session, sale: Sale) -> RepairOrder | None:
    """The repair order this bill pays for (locked second, after the sale); it must still be ready:
    an order moved back to work meanwhile is not handed over."""
    if sale.repair_order_id is None:
        return None
    order = lock_order(session, sale.repair_order_id)
    if order.status != Status.READY:
        raise CheckoutError(_l("Only an order that is ready for pickup can be checked out; it is %(status)s.",
                               status=Status(order.status).label))
    return order


def _price_with_loyalty(session: Session, sale: Sale, adjustments: Sequence[pricing.Adjustment],
                        loyalty: sale_loyalty.LoyaltyRequest, now: datetime, *,
                        warranty_return: bool = False) -> tuple[Bill, sale_loyalty.Plan]:
    """The bill priced on the server: the loyalty plan is made on the bill with the desk's own
    adjustments, under the customer's account lock, and the bill priced once with its reductions. The lines
    are read once (the sale is locked: they cannot change in between)."""
    lines = bill_lines(session, sale, sale.lines)  # read afresh with the locked sale
    the_plan = sale_loyalty.plan(session, sale.customer_id, [line.pricing_input() for line in lines],
                                 loyalty, now=now, locked=True, prior=adjustments, warranty_return=warranty_return)
    return price_bill(lines, [*adjustments, *the_plan.adjustments]), the_plan


def _settle(bill: Bill, order: RepairOrder | None, expected_total_minor: int,
            tenders: Sequence[pricing.Tender]) -> pricing.Settlement:
    """The bill must have something on it (or be a repair's), still come to the total the desk saw, and
    be covered by the payments (pricing.settle works out the change)."""
    if not bill.lines and order is None:  # a repair with nothing billed (quote declined) is still handed back
        raise CheckoutError(_l("The bill is empty."))
    if bill.quote.total_minor != expected_total_minor:
        raise CheckoutError(_l("The bill changed while this page was open. Check the new total and take "
                               "payment again."), field="total")
    try:
        return pricing.settle(bill.quote.total_minor, tenders)
    except pricing.PricingError as error:
        raise CheckoutError(error.message, field="payments") from None


def _record_payment(session: Session, sale: Sale, bill: Bill, settlement: pricing.Settlement, *, key: str,
                    digest: str, actor: StaffUser, number_prefix: str, now: datetime) -> None:
    """Write the payments and turn the cart into a numbered paid sale carrying the form's key and
    digest (UNIQUE key: the same form cannot pay twice)."""
    for paid, handed in zip(settlement.payments, settlement.tendered, strict=True):
        session.add(Payment(sale_id=sale.id, method=paid.method, amount_minor=paid.amount_minor,
                            tendered_minor=handed.amount_minor, taken_by_id=actor.id, taken_at=now))
    sale.number = next_number(session, number_prefix, series="sale")
    sale.status = SaleStatus.PAID
    sale.subtotal_minor = bill.quote.subtotal_minor
    sale.discount_minor = bill.quote.discount_minor
    sale.total_minor = bill.quote.total_minor
    sale.paid_minor = bill.quote.total_minor
    sale.change_minor = settlement.change_minor
    sale.checkout_key = key
    sale.checkout_digest = digest
    sale.paid_by_id = actor.id
    sale.paid_at = now
    session.flush()


def _hand_back(session: Session, order: RepairOrder, sale: Sale, actor: StaffUser, now: datetime) -> None:
    """The paid repair is picked up (a status only checkout may set) and the customer is told."""
    try:
        change = change_status(session, order, Status.PICKED_UP, actor=actor,
                               note=str(_l("Paid, receipt %(n)s", n=sale.number)), via_checkout=True, now=now)
    except OrderError as error:
        raise CheckoutError(error.message) from None
    messages.picked_up(session, order, sale, change)


def _record_lines(session: Session, sale: Sale, bill: Bill, the_plan: sale_loyalty.Plan, actor: StaffUser,
                  now: datetime) -> list[SaleLine]:
    """Write the priced lines (copying the repair's lines onto the sale) with the points each spends and earns,
    and take sold items from stock; returns the sale's line rows in bill order. The cart's rows were loaded with
    the locked sale (session.get finds them without a statement)."""
    items = {row.item.id: row.item for row in sale.lines if row.item is not None}  # loaded with the sale
    rows = []
    for line, priced, spent, earned in zip(bill.lines, bill.quote.lines, the_plan.spent_per_line,
                                           the_plan.earn_per_line, strict=True):
        if line.sale_line_id is not None:
            row = session.get(SaleLine, line.sale_line_id)
        else:
            row = SaleLine(sale_id=sale.id, kind=line.kind, repair_line_id=line.repair_line_id,
                           category_code=line.category_code, description=line.description, quantity=line.quantity,
                           unit_price_minor=line.unit_price_minor)
            session.add(row)
        row.discount_minor = priced.discount_minor
        row.adjustment_minor = priced.adjustment_minor
        row.total_minor = priced.total_minor
        row.points_spent, row.points_earned = spent, earned
        rows.append(row)
    # Items are taken in id order: two checkouts lock the same item rows in the same order, so carts
    # holding the same items in another order cannot deadlock on PostgreSQL. The movements are written
    # together (one INSERT).
    movements: list[dict] = []
    for line in sorted((line for line in bill.lines if line.item_id is not None), key=lambda x: x.item_id):
        try:
            record_movement(session, items[line.item_id], "sold", -line.quantity, actor=actor, sale_id=sale.id,
                            now=now, deferred=movements)
        except StockError as error:
            raise CheckoutError(error.message, field="payments") from None
    write_deferred(session, movements)
    session.flush()
    return rows
