"""Repair order rules: intake, numbering, the status workflow, lines and totals."""

import secrets
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.auth.models import Role, StaffUser
from crm.catalogue.models import CatalogueItem, StockMovement
from crm.catalogue.service import register_movement_source
from crm.catalogue.stock import StockError, record_movement
from crm.customers import telegram
from crm.customers.models import Customer
from crm.database import utcnow
from crm.errors import RuleError
from crm.locales import lazy_gettext as _l
from crm.numbering import next_number
from crm.orders import messages
from crm.orders.device import DEVICE_TYPES, PRIORITIES, REPAIR_KINDS, imei_is_valid
from crm.orders.models import OrderStatusChange, QuoteDecision, RepairOrder, RepairOrderLine
from crm.orders.status import (
    APPROVAL_TARGETS,
    CHECKOUT_ONLY,
    CLOSED_STATUSES,
    REASK_FROM,
    TARGETS_BY_ROLE,
    TRANSITIONS,
    Status,
)
from crm.orders.warranty import WarrantyError, check_warranty_of
from crm.shop_time import local_date
from crm.webhooks import events as webhook_events


class OrderError(RuleError):
    pass


register_movement_source("repair_order_id", RepairOrder.number)


@dataclass
class OrderData:
    device_type: str
    brand: str
    model: str
    problem: str
    serial_number: str = ""
    imei: str = ""
    condition: str = ""
    accessories: str = ""
    estimate_minor: int | None = None
    due_date: date | None = None
    priority: int = 0
    technician_id: int | None = None
    warranty_days: int = 90
    repair_kind: str = ""
    warranty_of_id: int | None = None  # the earlier order this one is a warranty return of (crm.orders.warranty)


def new_tracking_token() -> str:
    return secrets.token_urlsafe(24)  # 192 bits


def _search_text(order: RepairOrder) -> str:
    parts = [order.number, order.brand, order.model, order.serial_number, order.imei]
    return " ".join(p.casefold() for p in parts if p)


def _validate(session: Session, data: OrderData) -> None:
    if data.device_type not in DEVICE_TYPES:
        raise OrderError(_l("Choose a device type."), field="device_type")
    if data.priority not in PRIORITIES:
        raise OrderError(_l("Choose a priority."), field="priority")
    if data.repair_kind and data.repair_kind not in REPAIR_KINDS:
        raise OrderError(_l("Choose a kind of repair."), field="repair_kind")
    imei = data.imei.strip()
    if imei and not imei_is_valid(imei):
        raise OrderError(_l("This IMEI is not valid: it needs 15 digits with a correct check digit."), field="imei")
    if data.warranty_days < 0:
        raise OrderError(_l("Warranty cannot be negative."), field="warranty_days")
    if data.technician_id is not None:
        tech = session.get(StaffUser, data.technician_id)
        if tech is None or not tech.is_active_account or tech.role not in (Role.TECHNICIAN, Role.MANAGER):
            raise OrderError(_l("Choose an active technician."), field="technician_id")


def _apply(order: RepairOrder, data: OrderData) -> None:
    order.device_type = data.device_type
    order.brand = data.brand.strip()
    order.model = data.model.strip()
    order.serial_number = data.serial_number.strip()
    order.imei = data.imei.strip()
    order.condition = data.condition.strip()
    order.accessories = data.accessories.strip()
    order.problem = data.problem.strip()
    order.estimate_minor = data.estimate_minor
    order.due_date = data.due_date
    order.priority = data.priority
    order.technician_id = data.technician_id
    order.warranty_days = data.warranty_days
    order.repair_kind = data.repair_kind
    order.warranty_of_id = data.warranty_of_id
    order.search_text = _search_text(order)


def create_order(session: Session, customer: Customer, data: OrderData, *, created_by: StaffUser | None,
                 number_prefix: str, now: datetime | None = None) -> RepairOrder:
    """Take a device in: a numbered order in status "received" with its first history entry."""
    now = now or utcnow()
    _validate(session, data)
    _check_warranty(session, customer.id, data.warranty_of_id, now)
    order = RepairOrder(
        number=next_number(session, number_prefix, series="repair"),
        customer_id=customer.id,
        status=Status.RECEIVED.value,
        tracking_token=new_tracking_token(),
        created_by_id=created_by.id if created_by else None,
        created_at=now,
        updated_at=now,
    )
    _apply(order, data)
    session.add(order)
    session.flush()
    session.add(OrderStatusChange(order_id=order.id, from_status=None, to_status=Status.RECEIVED.value,
                                  changed_by_id=order.created_by_id, changed_at=now, note=""))
    session.flush()
    messages.order_received(session, order)
    telegram.receipt_code(session, customer, now=now)  # the intake receipt's /start link
    return order


def update_order(session: Session, order: RepairOrder, data: OrderData) -> None:
    """Correct the intake details of an open order."""
    if order.status in CLOSED_STATUSES:
        raise OrderError(_l("A closed order cannot be edited."))
    _validate(session, data)
    if data.warranty_of_id != order.warranty_of_id:  # a link kept as it was is not checked again
        _check_warranty(session, order.customer_id, data.warranty_of_id, utcnow(), order_id=order.id)
    _apply(order, data)
    session.flush()


def _check_warranty(session: Session, customer_id: int, warranty_of_id: int | None, now: datetime, *,
                    order_id: int | None = None) -> None:
    try:
        check_warranty_of(session, customer_id, warranty_of_id, local_date(now), order_id=order_id)
    except WarrantyError as exc:
        raise OrderError(exc.message, field=exc.field) from None


def lock_order(session: Session, order_id: int) -> RepairOrder | None:
    """Load an order for a change, holding its row lock (PostgreSQL) until commit."""
    return session.scalar(select(RepairOrder).where(RepairOrder.id == order_id).with_for_update())


def change_status(session: Session, order: RepairOrder, to_status: str, *, actor: StaffUser, note: str = "",
                  expected_from: str | None = None, via_checkout: bool = False, on_approval: str | None = None,
                  now: datetime | None = None) -> OrderStatusChange:
    """Move an order along the workflow in TRANSITIONS, as far as the actor's role allows.

    ``expected_from`` is the status the actor saw; if someone moved the order meanwhile the change
    is refused rather than applied to a state the actor never saw. Asking for approval needs a quote
    (at least one line) and takes ``on_approval``, where an approved quote moves the order ("in repair"
    when not given)."""
    try:
        target = Status(to_status)
    except ValueError:
        raise OrderError(_l("Unknown status."), field="status") from None
    current = Status(order.status)
    if expected_from is not None and expected_from != current:
        raise OrderError(_l("Someone changed this order meanwhile; it is now %(status)s.", status=current.label),
                         field="status")
    if target not in TRANSITIONS[current]:
        raise OrderError(_l("An order cannot go from %(a)s to %(b)s.", a=current.label, b=target.label),
                         field="status")
    if target not in TARGETS_BY_ROLE[actor.role]:
        raise OrderError(_l("Your role cannot set an order to %(b)s.", b=target.label), field="status")
    if target in CHECKOUT_ONLY and not via_checkout:
        raise OrderError(_l("A device is handed back through checkout, which takes the payment."), field="status")
    if target == Status.AWAITING_APPROVAL:
        _prepare_approval_request(session, order, on_approval)
    return record_status_change(session, order, target, actor_id=actor.id, note=note, now=now)


def _prepare_approval_request(session: Session, order: RepairOrder, on_approval: str | None) -> None:
    """The customer approves a quote: the order's lines. The technician's choice of the next status is kept."""
    if on_approval not in (None, "", *APPROVAL_TARGETS):
        raise OrderError(_l("Choose where an approved quote takes the order."), field="on_approval")
    has_lines = session.scalar(select(func.count()).select_from(RepairOrderLine)
                               .where(RepairOrderLine.order_id == order.id))
    if not has_lines:
        raise OrderError(_l("Add the work and parts of the quote before asking for approval."), field="status")
    order.approval_target = on_approval or Status.IN_REPAIR.value


def record_status_change(session: Session, order: RepairOrder, target: Status, *, actor_id: int | None,
                         note: str = "", now: datetime | None = None) -> OrderStatusChange:
    """Write a move the caller has checked: the status, its history entry and the customer's message."""
    now = now or utcnow()
    current = order.status
    order.status = target.value
    order.updated_at = now
    order.closed_at = now if target in CLOSED_STATUSES else None
    change = OrderStatusChange(order_id=order.id, from_status=current, to_status=target.value,
                               changed_by_id=actor_id, changed_at=now, note=note.strip())
    session.add(change)
    session.flush()
    messages.status_changed(session, order, change)
    webhook_events.order_status_changed(session, order, previous=current, ready=target == Status.READY, now=now)
    return change


def quote_changed(session: Session, order: RepairOrder, *, actor: StaffUser | None,
                  now: datetime | None = None) -> bool:
    """A line was added or removed: the quote's version moves on, so no earlier decision holds for it. An
    order that an approval sent into repair (and that is not ready yet) goes back to awaiting approval: the
    customer is asked again, with the new total. True when that happened."""
    previous = order.quote_version
    order.quote_version = previous + 1
    if Status(order.status) not in REASK_FROM:
        return False
    approved = session.scalar(select(QuoteDecision.id).where(
        QuoteDecision.order_id == order.id, QuoteDecision.quote_version == previous,
        QuoteDecision.decision == "approved"))
    if approved is None:
        return False
    order.approval_target = order.status
    record_status_change(session, order, Status.AWAITING_APPROVAL, actor_id=actor.id if actor else None,
                         note=str(_l("The quote changed after it was approved; the customer is asked again.")),
                         now=now)
    return True


def add_line(session: Session, order: RepairOrder, *, kind: str, description: str = "", quantity: int,
             unit_price_minor: int | None = None, actor: StaffUser | None,
             item: CatalogueItem | None = None) -> RepairOrderLine:
    """Log work done or a part used on an open order.

    A part from the catalogue (``item``) takes its name and price unless others are given, and is
    taken from stock in the same transaction: more than is on hand is refused, unless the item is
    not stock-tracked."""
    _check_line_can_be_added(order, kind, quantity, item)
    if item is not None:
        description, unit_price_minor = _catalogue_part(item, description, unit_price_minor)
    if unit_price_minor is None and kind == "labour" and order.warranty_of_id is not None:
        unit_price_minor = 0  # a warranty return's work is free unless a price is typed
    _check_line_text_and_price(description, unit_price_minor)
    if item is not None:
        _take_part_from_stock(session, order, item, quantity, actor)
    line = RepairOrderLine(order_id=order.id, kind=kind, description=description.strip(), quantity=quantity,
                           unit_price_minor=unit_price_minor, item_id=item.id if item is not None else None,
                           created_by_id=actor.id if actor else None)
    session.add(line)
    session.flush()
    quote_changed(session, order, actor=actor)
    return line


def _check_line_can_be_added(order: RepairOrder, kind: str, quantity: int, item: CatalogueItem | None) -> None:
    """A line goes on an open order, is work or a part (a catalogue item is always a part), and counts
    at least one unit."""
    if order.status in CLOSED_STATUSES:
        raise OrderError(_l("Lines cannot be added to a closed order."))
    if kind not in ("labour", "part"):
        raise OrderError(_l("Choose work or part."), field="kind")
    if item is not None and kind != "part":
        raise OrderError(_l("An item from the catalogue is a part: choose Part."), field="kind")
    if quantity < 1:
        raise OrderError(_l("Quantity must be at least 1."), field="quantity")


def _catalogue_part(item: CatalogueItem, description: str, unit_price_minor: int | None) -> tuple[str, int]:
    """A part from the catalogue must still be sold; it is named and priced as in the catalogue unless
    the technician typed a description or a price of their own."""
    if not item.active:
        raise OrderError(_l("%(item)s is no longer in the catalogue.", item=item.name), field="sku")
    description = (description or "").strip() or item.name
    return description, item.price_minor if unit_price_minor is None else unit_price_minor


def _check_line_text_and_price(description: str, unit_price_minor: int | None) -> None:
    """Every line says what it is and has a price of zero or more."""
    if not (description or "").strip():
        raise OrderError(_l("Describe the work or the part."), field="description")
    if unit_price_minor is None:
        raise OrderError(_l("Enter the unit price."), field="price")
    if unit_price_minor < 0:
        raise OrderError(_l("The price cannot be negative."), field="price")


def _take_part_from_stock(session: Session, order: RepairOrder, item: CatalogueItem, quantity: int,
                          actor: StaffUser | None) -> None:
    """The part leaves the shelf with the line; the refusal of a short stock belongs to the quantity."""
    try:
        record_movement(session, item, "used", -quantity, actor=actor, repair_order_id=order.id)
    except StockError as exc:
        raise OrderError(exc.message, field="quantity") from None


def remove_line(session: Session, order: RepairOrder, line_id: int, *, actor: StaffUser | None = None) -> None:
    """Take a line off an open order; a part from the catalogue goes back to stock (as much of it
    as this order took from stock: nothing if the item was not stock-tracked then)."""
    if order.status in CLOSED_STATUSES:
        raise OrderError(_l("Lines cannot be removed from a closed order."))
    line = session.scalar(select(RepairOrderLine).where(RepairOrderLine.id == line_id,
                                                        RepairOrderLine.order_id == order.id))
    if line is None:
        raise OrderError(_l("This line does not exist on this order."))
    take_line_off(session, order, line, actor=actor)
    quote_changed(session, order, actor=actor)


def take_line_off(session: Session, order: RepairOrder, line: RepairOrderLine, *, actor: StaffUser | None) -> None:
    """Delete a line; a part from the catalogue goes back to stock (as much of it as this order took from
    stock: nothing if the item was not stock-tracked then). The caller says what it means for the quote."""
    if line.item_id is not None:
        taken = -session.scalar(
            select(func.coalesce(func.sum(StockMovement.quantity), 0))
            .where(StockMovement.item_id == line.item_id, StockMovement.repair_order_id == order.id,
                   StockMovement.kind.in_(("used", "returned"))))
        back = min(line.quantity, taken)
        if back > 0:
            item = session.get(CatalogueItem, line.item_id)
            record_movement(session, item, "returned", back, actor=actor, repair_order_id=order.id,
                            reason=str(_l("Removed from order %(number)s", number=order.number)))
    session.delete(line)
    session.flush()


@dataclass(frozen=True)
class OrderTotals:
    labour_minor: int
    parts_minor: int

    @property
    def total_minor(self) -> int:
        return self.labour_minor + self.parts_minor


def order_totals(lines: list[RepairOrderLine]) -> OrderTotals:
    """Totals computed on the server from the lines, in integer minor units."""
    labour = sum(line.total_minor for line in lines if line.kind == "labour")
    parts = sum(line.total_minor for line in lines if line.kind == "part")
    return OrderTotals(labour_minor=labour, parts_minor=parts)


def assign_technician(session: Session, order: RepairOrder, technician: StaffUser) -> None:
    """A technician takes an open order that nobody has taken yet (or already has it)."""
    if order.status in CLOSED_STATUSES:
        raise OrderError(_l("A closed order cannot be taken."))
    if order.technician_id not in (None, technician.id):
        raise OrderError(_l("Another technician already has this order."))
    order.technician_id = technician.id
    session.flush()
