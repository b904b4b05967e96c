"""Builders shared by the sales service tests: staff, catalogue items with stock, ready repair orders,
paid sales, and a runner that starts several desks at the same instant on their own connections."""

import itertools
import secrets
import threading
from collections.abc import Callable, Sequence

from sqlalchemy import func, select

from crm.auth.models import Role, StaffUser
from crm.catalogue.models import CatalogueItem, ItemCategory, StockMovement
from crm.catalogue.stock import movements_sum, record_movement
from crm.database import utcnow
from crm.errors import RuleError
from crm.extensions import db
from crm.orders import service as order_service
from crm.orders.models import RepairOrder
from crm.orders.status import Status
from crm.sales import checkout, pricing, refunds
from crm.sales import loyalty as sale_loyalty
from crm.sales.bill import current_bill
from crm.sales.models import Payment, Sale
from tests import factories

PAYMENT_METHODS = ("cash", "card", "bank_transfer")
SALE_PREFIX = "S-"
REFUND_PREFIX = "RF-"
_numbers = itertools.count(1)


def new_key() -> str:
    return secrets.token_urlsafe(24)


def staff_member(session, role: str = Role.FRONT_DESK) -> StaffUser:
    """A staff row without a usable password: service tests never log in, so no argon2 hashing."""
    n = next(_numbers)
    user = StaffUser(username=f"sales-{role}-{n}", full_name=f"Sales {role} {n}", role=role,
                     password_hash="!unusable")
    session.add(user)
    session.flush()
    return user


def new_item(session, *, price_minor: int = 10_000, on_hand: int = 0, tracked: bool = True,
             name: str | None = None, category: str = "accessory", active: bool = True) -> CatalogueItem:
    n = next(_numbers)
    category_id = session.scalar(select(ItemCategory.id).where(ItemCategory.code == category))
    item = CatalogueItem(sku=f"SALE-{n}", name=name or f"Case {n}", category_id=category_id,
                         price_minor=price_minor, cost_minor=0, stock_tracked=tracked, active=active)
    session.add(item)
    session.flush()
    if tracked and on_hand:
        record_movement(session, item, "received", on_hand, actor=None)
    return item


def ready_order(session, lines: Sequence[tuple[str, int, int]] = (("labour", 1, 120_000),),
                *, parts: Sequence[tuple[CatalogueItem, int]] = (), customer=None) -> RepairOrder:
    """A repair order in status "ready" with work/part lines given as (kind, quantity, unit price)
    and catalogue parts given as (item, quantity), which the repair takes from stock."""
    manager = staff_member(session, Role.MANAGER)
    order = factories.order(customer or factories.customer(), created_by=manager)
    for kind, quantity, unit_price in lines:
        order_service.add_line(session, order, kind=kind, description=f"{kind} work", quantity=quantity,
                               unit_price_minor=unit_price, actor=manager)
    for item, quantity in parts:
        order_service.add_line(session, order, kind="part", quantity=quantity, actor=manager, item=item)
    for status in (Status.DIAGNOSING, Status.READY):
        order_service.change_status(session, order, status, actor=manager)
    return order


def bill_total(session, sale: Sale, adjustments: Sequence[pricing.Adjustment] = (),
               loyalty: sale_loyalty.LoyaltyRequest | None = None, now=None) -> int:
    """The total the cart page shows, with the loyalty choices applied as the desk would see them (a
    refused choice is shown without it, as the cart page does)."""
    plain = current_bill(session, sale, adjustments)
    try:
        plan = sale_loyalty.plan(session, sale.customer_id, [line.pricing_input() for line in plain.lines],
                                 loyalty or sale_loyalty.LoyaltyRequest(), now=now or utcnow(), locked=False,
                                 prior=adjustments)
    except sale_loyalty.LoyaltyCheckoutError:
        return plain.quote.total_minor
    return current_bill(session, sale, [*adjustments, *plan.adjustments]).quote.total_minor


def pay(session, sale_id: int, *, actor: StaffUser, tenders: Sequence[pricing.Tender] | None = None,
        key: str | None = None, expected_total: int | None = None,
        adjustments: Sequence[pricing.Adjustment] = (), loyalty: sale_loyalty.LoyaltyRequest | None = None,
        now=None) -> Sale:
    """Check a sale out as the desk would: by default the total the server shows, paid exactly in cash."""
    sale = session.get(Sale, sale_id)
    total = bill_total(session, sale, adjustments, loyalty, now) if expected_total is None else expected_total
    if tenders is None:
        tenders = [pricing.Tender("cash", total)] if total else []
    return checkout.checkout(session, sale_id, key=key or new_key(), tenders=tenders, expected_total_minor=total,
                             actor=actor, payment_methods=PAYMENT_METHODS, number_prefix=SALE_PREFIX,
                             adjustments=adjustments, loyalty=loyalty, now=now)


def paid_sale(session, actor: StaffUser, items: Sequence[tuple[CatalogueItem, int]], **line_discounts) -> Sale:
    """A walk-in sale of (item, quantity) pairs, paid exactly in cash."""
    sale = checkout.open_sale(session, actor=actor)
    for item, quantity in items:
        checkout.add_item(session, sale, item, quantity, **line_discounts)
    return pay(session, sale.id, actor=actor)


def give_back(session, sale_id: int, requests: Sequence[refunds.RefundRequest], *, actor: StaffUser,
              key: str | None = None, method: str = "cash", reason: str = "Customer changed their mind", now=None):
    return refunds.refund(session, sale_id, requests, method=method, reason=reason, key=key or new_key(),
                          actor=actor, payment_methods=PAYMENT_METHODS, number_prefix=REFUND_PREFIX, now=now)


def payments_of(session, sale_id: int) -> list[tuple[str, int, int]]:
    return [(p.method, p.amount_minor, p.tendered_minor) for p in session.scalars(
        select(Payment).where(Payment.sale_id == sale_id).order_by(Payment.id))]


def movements_of(session, item_id: int, kind: str) -> list[int]:
    return list(session.scalars(select(StockMovement.quantity).where(StockMovement.item_id == item_id,
                                                                     StockMovement.kind == kind)
                                .order_by(StockMovement.id)))


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def assert_books_balance(session, item_id: int, expected: int) -> None:
    """The item's on-hand column equals the sum of its movements and the expected count."""
    stored = session.scalar(select(CatalogueItem.on_hand).where(CatalogueItem.id == item_id))
    assert stored == movements_sum(session, item_id) == expected


def run_at_once(app, *desks: Callable) -> list:
    """Run each desk(session) in its own thread with its own app context, session and connection, all
    released together by a barrier; each desk commits its own work (or rolls back on a refusal).

    Returns, per desk, what it returned or the RuleError it raised. Anything else (a deadlock, an
    IntegrityError) fails the test: the services must turn races into clear refusals."""
    barrier = threading.Barrier(len(desks), timeout=10)
    outcomes: list = [None] * len(desks)
    errors: list[str] = []

    def run(index: int, desk: Callable) -> None:
        with app.app_context():
            try:
                barrier.wait()
                outcomes[index] = desk(db.session)
                db.session.commit()
            except RuleError as refused:
                db.session.rollback()
                outcomes[index] = refused
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                db.session.rollback()
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(i, desk)) for i, desk in enumerate(desks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads), "a desk is still waiting"
    assert errors == [], errors
    return outcomes
