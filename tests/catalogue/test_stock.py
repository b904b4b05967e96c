"""Stock changes only through movements: on hand is always their sum and never below zero, parts used
on a repair come from stock and go back when the line is removed, two desks cannot take the last unit."""

import itertools
import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from crm.auth.models import Role, StaffUser
from crm.catalogue import service as catalogue
from crm.catalogue.models import CatalogueItem, ItemCategory, StockMovement
from crm.catalogue.service import CatalogueError, ItemData
from crm.catalogue.stock import StockError, movements_sum, record_movement
from crm.extensions import db
from crm.orders import service as order_service
from crm.orders.models import RepairOrderLine
from crm.orders.service import OrderError
from crm.orders.status import Status

_numbers = itertools.count(1)


def staff_member(session, role: str = Role.TECHNICIAN) -> StaffUser:
    n = next(_numbers)
    user = StaffUser(username=f"stock-{role}-{n}", full_name=f"Stock {role} {n}", role=role,
                     password_hash="!unusable")
    session.add(user)
    session.flush()
    return user


def new_item(session, *, on_hand: int = 0, tracked: bool = True, name: str | None = None,
             category: str = "spare_part") -> CatalogueItem:
    n = next(_numbers)
    category_id = session.scalar(select(ItemCategory.id).where(ItemCategory.code == category))
    item = catalogue.create_item(session, ItemData(sku=f"STK-{n}", name=name or f"Screen {n}", category_id=category_id,
                                                   price_minor=150000, cost_minor=90000, stock_tracked=tracked))
    if on_hand:
        catalogue.receive_stock(session, item, on_hand, actor=None)
    return item


def stored_on_hand(session, item) -> int:
    return session.scalar(select(CatalogueItem.on_hand).where(CatalogueItem.id == item.id))


def assert_books_balance(session, item, expected: int) -> None:
    assert item.on_hand == stored_on_hand(session, item) == movements_sum(session, item.id) == expected


# --- the invariant ------------------------------------------------------------------------------------

OPERATIONS = st.lists(st.tuples(st.sampled_from(["receive", "adjust", "sell", "use", "remove"]),
                                st.integers(min_value=-8, max_value=8)), max_size=25)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=OPERATIONS)
def test_on_hand_is_the_sum_of_movements_after_any_sequence(session, make, operations):
    """Whatever happens in whatever order: exactly what would take stock below zero (or means nothing) is
    refused and changes nothing, what is done is one movement, and on hand (the column and the loaded
    object) equals the sum of movements."""
    item = new_item(session)
    order = make.order()
    actor = staff_member(session)
    expected, lines = 0, []
    try:
        for operation, n in operations:
            if operation == "remove" and not lines:
                continue
            before = movements_count(session, item)
            line = lines[n % len(lines)] if operation == "remove" else None
            delta, valid = {
                "receive": (n, n > 0),
                "adjust": (n, n != 0 and expected + n >= 0),
                "sell": (-abs(n), n != 0 and expected - abs(n) >= 0),
                "use": (-n, n >= 1 and expected - n >= 0),
                "remove": (line.quantity if line else 0, True),
            }[operation]
            try:
                if operation == "receive":
                    catalogue.receive_stock(session, item, n, actor=actor)
                elif operation == "adjust":
                    catalogue.adjust_stock(session, item, n, actor=actor, reason="count")
                elif operation == "sell":
                    record_movement(session, item, "sold", -abs(n), actor=actor)
                elif operation == "use":
                    lines.append(order_service.add_line(session, order, kind="part", quantity=n, actor=actor,
                                                        item=item))
                else:
                    order_service.remove_line(session, order, line.id, actor=actor)
                    lines.remove(line)
            except (CatalogueError, StockError, OrderError) as refused:
                assert not valid, (operation, n, refused.message)
                assert movements_count(session, item) == before
            else:
                assert valid, (operation, n, expected)
                expected += delta
                assert movements_count(session, item) == before + 1
            assert_books_balance(session, item, expected)
    finally:
        session.rollback()


def movements_count(session, item) -> int:
    return len(session.scalars(select(StockMovement.id).where(StockMovement.item_id == item.id)).all())


# --- single rules -----------------------------------------------------------------------------------

def test_stock_cannot_go_below_zero_and_the_refusal_says_how_many_there_are(session):
    item = new_item(session, on_hand=2, name="Battery iPhone 11")
    with pytest.raises(CatalogueError) as caught:
        catalogue.adjust_stock(session, item, -3, actor=None, reason="broken in storage")
    assert str(caught.value.message) == "Only 2 of Battery iPhone 11 in stock."
    assert caught.value.field == "quantity"
    with pytest.raises(StockError):
        record_movement(session, item, "sold", -3, actor=None)
    catalogue.adjust_stock(session, item, -2, actor=None, reason="broken in storage")
    assert_books_balance(session, item, 0)


def test_an_adjustment_needs_a_reason_and_a_quantity(session):
    item = new_item(session, on_hand=5)
    for reason in ("", "   "):
        with pytest.raises(CatalogueError) as caught:
            catalogue.adjust_stock(session, item, -1, actor=None, reason=reason)
        assert caught.value.field == "reason"
    with pytest.raises(CatalogueError) as caught:
        catalogue.adjust_stock(session, item, 0, actor=None, reason="count")
    assert caught.value.field == "quantity"
    movement = catalogue.adjust_stock(session, item, 3, actor=None, reason="  found in the drawer ")
    assert (movement.kind, movement.quantity, movement.reason) == ("adjusted", 3, "found in the drawer")
    assert_books_balance(session, item, 8)


def test_receiving_needs_a_positive_quantity_and_records_who_and_when(session):
    item = new_item(session)
    clerk = staff_member(session, Role.FRONT_DESK)
    for quantity in (0, -4):
        with pytest.raises(CatalogueError):
            catalogue.receive_stock(session, item, quantity, actor=clerk)
    movement = catalogue.receive_stock(session, item, 4, actor=clerk, note="Invoice 17")
    assert (movement.kind, movement.quantity, movement.reason, movement.created_by_id) == (
        "received", 4, "Invoice 17", clerk.id)
    assert movement.created_at is not None
    assert_books_balance(session, item, 4)


def test_untracked_items_have_no_movements(session, make):
    service_item = new_item(session, tracked=False, name="Screen protector installation", category="service")
    with pytest.raises(CatalogueError, match="not stock-tracked"):
        catalogue.receive_stock(session, service_item, 3, actor=None)
    with pytest.raises(CatalogueError, match="not stock-tracked"):
        catalogue.adjust_stock(session, service_item, 3, actor=None, reason="count")
    assert record_movement(session, service_item, "sold", -1, actor=None) is None
    order = make.order()
    line = order_service.add_line(session, order, kind="part", quantity=50, actor=None, item=service_item)
    order_service.remove_line(session, order, line.id)
    assert movements_count(session, service_item) == 0
    assert_books_balance(session, service_item, 0)


def test_tracking_cannot_be_switched_off_while_units_are_in_stock(session):
    item = new_item(session, on_hand=2)
    data = ItemData(sku=item.sku, name=item.name, category_id=item.category_id, price_minor=item.price_minor,
                    stock_tracked=False)
    with pytest.raises(CatalogueError) as caught:
        catalogue.update_item(session, item, data)
    assert caught.value.field == "stock_tracked"
    catalogue.adjust_stock(session, item, -2, actor=None, reason="sold off the books, written off")
    catalogue.update_item(session, item, data)
    assert item.stock_tracked is False


# --- parts on a repair ------------------------------------------------------------------------------

def test_a_part_from_the_catalogue_is_taken_from_stock_and_put_back_when_removed(session, make):
    item = new_item(session, on_hand=5, name="Screen iPhone 13")
    order = make.order()
    technician = staff_member(session)
    line = order_service.add_line(session, order, kind="part", quantity=2, actor=technician, item=item)
    assert (line.description, line.unit_price_minor, line.item_id) == ("Screen iPhone 13", 150000, item.id)
    assert_books_balance(session, item, 3)
    used = session.scalar(select(StockMovement).where(StockMovement.kind == "used"))
    assert (used.quantity, used.repair_order_id, used.created_by_id) == (-2, order.id, technician.id)

    order_service.remove_line(session, order, line.id, actor=technician)
    assert_books_balance(session, item, 5)
    returned = session.scalar(select(StockMovement).where(StockMovement.kind == "returned"))
    assert (returned.quantity, returned.repair_order_id) == (2, order.id)
    assert order.number in returned.reason
    assert session.get(RepairOrderLine, line.id) is None


def test_a_catalogue_part_keeps_a_description_and_price_typed_by_the_technician(session, make):
    item = new_item(session, on_hand=1)
    line = order_service.add_line(session, make.order(), kind="part", description=" Screen, refurbished ",
                                  quantity=1, unit_price_minor=0, actor=None, item=item)
    assert (line.description, line.unit_price_minor) == ("Screen, refurbished", 0)


def test_using_more_than_is_on_hand_is_refused_with_a_clear_message(session, make):
    item = new_item(session, on_hand=1, name="Battery Galaxy A54")
    order = make.order()
    with pytest.raises(OrderError) as caught:
        order_service.add_line(session, order, kind="part", quantity=2, actor=None, item=item)
    assert str(caught.value.message) == "Only 1 of Battery Galaxy A54 in stock."
    assert caught.value.field == "quantity"
    assert session.scalars(select(RepairOrderLine)).all() == []
    assert_books_balance(session, item, 1)


def test_a_catalogue_item_is_a_part_and_must_be_active(session, make):
    item = new_item(session, on_hand=3)
    order = make.order()
    with pytest.raises(OrderError) as caught:
        order_service.add_line(session, order, kind="labour", quantity=1, actor=None, item=item)
    assert caught.value.field == "kind"
    item.active = False
    with pytest.raises(OrderError) as caught:
        order_service.add_line(session, order, kind="part", quantity=1, actor=None, item=item)
    assert caught.value.field == "sku"
    assert_books_balance(session, item, 3)


def test_removing_one_of_two_lines_of_the_same_part_returns_only_that_line(session, make):
    item = new_item(session, on_hand=10)
    order = make.order()
    first = order_service.add_line(session, order, kind="part", quantity=2, actor=None, item=item)
    order_service.add_line(session, order, kind="part", quantity=3, actor=None, item=item)
    order_service.remove_line(session, order, first.id)
    assert_books_balance(session, item, 7)


def test_a_part_used_before_tracking_started_is_not_returned_into_stock(session, make):
    """Only what this order took from stock goes back: nothing appears from nowhere."""
    item = new_item(session, tracked=False)
    order = make.order()
    line = order_service.add_line(session, order, kind="part", quantity=2, actor=None, item=item)
    data = ItemData(sku=item.sku, name=item.name, category_id=item.category_id, price_minor=item.price_minor)
    catalogue.update_item(session, item, data)  # tracked from now on
    catalogue.receive_stock(session, item, 1, actor=None)
    order_service.remove_line(session, order, line.id)
    assert_books_balance(session, item, 1)


def test_lines_of_a_closed_order_leave_stock_alone(session, make):
    item = new_item(session, on_hand=2)
    order = make.order()
    line = order_service.add_line(session, order, kind="part", quantity=1, actor=None, item=item)
    manager = staff_member(session, Role.MANAGER)
    order_service.change_status(session, order, Status.CANCELLED, actor=manager)
    with pytest.raises(OrderError):
        order_service.remove_line(session, order, line.id)
    with pytest.raises(OrderError):
        order_service.add_line(session, order, kind="part", quantity=1, actor=None, item=item)
    assert_books_balance(session, item, 1)


# --- two technicians at once --------------------------------------------------------------------------

def test_two_technicians_cannot_both_take_the_last_units(app, session, make):
    """The conditional UPDATE decides: with three units and five technicians, three get one each."""
    item_id = new_item(session, on_hand=3, name="Screen Redmi Note 12").id
    order_ids = [make.order().id for _ in range(5)]
    session.commit()
    session.close()  # hold no transaction (on SQLite: no write lock) while the threads run
    barrier = threading.Barrier(len(order_ids), timeout=10)
    taken, refused, errors = [], [], []

    def use_a_part(order_id):
        with app.app_context():
            try:
                barrier.wait()
                item = db.session.get(CatalogueItem, item_id)
                order = order_service.lock_order(db.session, order_id)
                order_service.add_line(db.session, order, kind="part", quantity=1, actor=None, item=item)
                db.session.commit()
                taken.append(order_id)
            except OrderError as exc:
                db.session.rollback()
                refused.append(str(exc.message))
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                db.session.rollback()
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=use_a_part, args=(order_id,)) for order_id in order_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert len(taken) == 3
    assert refused == ["Only 0 of Screen Redmi Note 12 in stock."] * 2
    item = session.get(CatalogueItem, item_id)
    assert_books_balance(session, item, 0)
