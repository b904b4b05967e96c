"""Repair order rules: intake, numbering, tracking tokens, lines and totals."""

import itertools
import re
import secrets
import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from crm.auth.models import Role, StaffUser
from crm.customers.models import Customer
from crm.extensions import db
from crm.orders import queries, service
from crm.orders.models import OrderStatusChange, RepairOrder, RepairOrderLine
from crm.orders.service import OrderData, OrderError
from crm.orders.status import Status

T0 = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
_numbers = itertools.count(1)


def staff_member(session, role: str = Role.TECHNICIAN) -> StaffUser:
    """A staff row without a usable password: these tests never log in, so no argon2 hashing."""
    n = next(_numbers)
    user = StaffUser(username=f"svc-{role}-{n}", full_name=f"{role} {n}", role=role, password_hash="!unusable")
    session.add(user)
    session.flush()
    return user


def intake(**changes) -> OrderData:
    fields = dict(device_type="phone", brand=" Samsung ", model=" Galaxy S21 ", problem=" Does not charge ",
                  serial_number=" SN123 ", condition=" scratched back ", accessories=" case, charger ",
                  estimate_minor=150000, due_date=date(2024, 5, 8), priority=1, warranty_days=30)
    fields.update(changes)
    return OrderData(**fields)


def create(session, customer, data=None, **kwargs):
    kwargs.setdefault("created_by", None)
    kwargs.setdefault("number_prefix", "R-")
    return service.create_order(session, customer, data or intake(), **kwargs)


def loaded(session, order) -> RepairOrder:
    """The order fresh from the database with its lines and history."""
    session.flush()
    session.expire_all()
    return queries.order_detail(session, order.id)


def close(session, order, status: Status) -> None:
    manager = staff_member(session, Role.MANAGER)
    path = [Status.CANCELLED] if status == Status.CANCELLED else [Status.DIAGNOSING, Status.READY, Status.PICKED_UP]
    for target in path:
        service.change_status(session, order, target, actor=manager, via_checkout=target == Status.PICKED_UP)


# --- intake ---------------------------------------------------------------------------------------------

def test_intake_stores_the_device_in_status_received(session, make):
    desk = staff_member(session, Role.FRONT_DESK)
    customer = make.customer()
    order = create(session, customer, created_by=desk, now=T0)
    session.commit()
    session.expire_all()
    order = session.get(RepairOrder, order.id)
    assert order.status == "received"
    assert order.customer_id == customer.id
    assert (order.brand, order.model, order.problem) == ("Samsung", "Galaxy S21", "Does not charge")
    assert (order.serial_number, order.condition, order.accessories) == ("SN123", "scratched back", "case, charger")
    assert (order.estimate_minor, order.due_date, order.priority, order.warranty_days) == (150000, date(2024, 5, 8),
                                                                                         1, 30)
    assert order.created_by_id == desk.id
    assert order.created_at == T0
    assert order.closed_at is None


def test_intake_writes_the_first_history_row(session, make):
    desk = staff_member(session, Role.FRONT_DESK)
    order = create(session, make.customer(), created_by=desk, now=T0)
    rows = list(session.scalars(select(OrderStatusChange).where(OrderStatusChange.order_id == order.id)))
    assert [(r.from_status, r.to_status, r.changed_by_id, r.changed_at) for r in rows] == [
        (None, "received", desk.id, T0)]


def test_order_numbers_are_unique_and_increasing(session, make):
    customer = make.customer()
    numbers = [create(session, customer).number for _ in range(3)]
    assert numbers == ["R-00001", "R-00002", "R-00003"]


def test_numbering_continues_after_commit_and_with_another_prefix(session, make):
    customer = make.customer()
    create(session, customer)
    session.commit()
    assert create(session, customer, number_prefix="K-").number == "K-00002"


def test_a_rolled_back_intake_never_causes_a_repeated_number(session, make):
    customer_id = make.customer().id
    committed = [create(session, session.get(Customer, customer_id)).number]
    session.commit()
    create(session, session.get(Customer, customer_id))
    session.rollback()
    for _ in range(2):
        committed.append(create(session, session.get(Customer, customer_id)).number)
        session.commit()
    assert len(set(committed)) == 3
    assert committed == sorted(committed)


def test_tracking_token_is_unique_urlsafe_and_has_at_least_128_random_bits(session, make, monkeypatch):
    requested = []

    class SpySecrets:
        """The real CSPRNG, noting how many bytes the service asks for."""

        def token_urlsafe(self, nbytes=None):
            requested.append(nbytes)
            return secrets.token_urlsafe(nbytes)

    monkeypatch.setattr(service, "secrets", SpySecrets())
    customer = make.customer()
    tokens = [create(session, customer).tracking_token for _ in range(20)]
    assert requested and all(n is not None and n * 8 >= 128 for n in requested)
    assert len(set(tokens)) == len(tokens)
    for token in tokens:
        assert re.fullmatch(r"[A-Za-z0-9_-]+", token)
        assert len(token) == 32  # token_urlsafe(24): 192 bits


def test_the_tracking_link_joins_the_public_base_and_the_token(app_ctx):
    from crm.orders.tracking import tracking_link

    assert tracking_link("abc") == "https://crm.example.test/t/abc"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"device_type": "toaster"}, "device_type"),
        ({"priority": 7}, "priority"),
        ({"warranty_days": -1}, "warranty_days"),
        ({"imei": "490154203237519"}, "imei"),
        ({"technician_id": 999999}, "technician_id"),
    ],
)
def test_intake_refuses_bad_details_naming_the_field(session, make, changes, field):
    with pytest.raises(OrderError) as caught:
        create(session, make.customer(), intake(**changes))
    assert caught.value.field == field


def test_an_inactive_technician_cannot_be_assigned(session, make):
    technician = staff_member(session)
    technician.is_active_account = False
    with pytest.raises(OrderError, match="active technician") as caught:
        create(session, make.customer(), intake(technician_id=technician.id))
    assert caught.value.field == "technician_id"


def test_an_active_technician_can_be_assigned(session, make):
    technician = staff_member(session)
    assert create(session, make.customer(), intake(technician_id=technician.id)).technician_id == technician.id


def test_order_search_text_holds_number_device_and_imei(session, make):
    order = create(session, make.customer(), intake(imei="490154203237518"))
    for part in ("r-00001", "samsung", "galaxy s21", "sn123", "490154203237518"):
        assert part in order.search_text


# --- editing --------------------------------------------------------------------------------------------

def test_update_corrects_intake_details(session, make):
    order = create(session, make.customer())
    service.update_order(session, order, intake(model="Galaxy S22", imei="490154203237518"))
    assert order.model == "Galaxy S22"
    assert "galaxy s22" in order.search_text and "490154203237518" in order.search_text


@pytest.mark.parametrize("closed", [Status.PICKED_UP, Status.CANCELLED])
def test_a_closed_order_cannot_be_edited_or_get_lines(session, make, closed):
    order = create(session, make.customer())
    line = service.add_line(session, order, kind="part", description="Screen", quantity=1, unit_price_minor=100,
                            actor=None)
    close(session, order, closed)
    with pytest.raises(OrderError, match="closed order cannot be edited"):
        service.update_order(session, order, intake(model="Changed"))
    with pytest.raises(OrderError, match="cannot be added to a closed order"):
        service.add_line(session, order, kind="labour", description="More work", quantity=1, unit_price_minor=100,
                         actor=None)
    with pytest.raises(OrderError, match="cannot be removed from a closed order"):
        service.remove_line(session, order, line.id)
    with pytest.raises(OrderError):
        service.assign_technician(session, order, staff_member(session))
    assert order.model == "Galaxy S21"
    assert [li.id for li in loaded(session, order).lines] == [line.id]


# --- lines and totals -----------------------------------------------------------------------------------

def test_totals_are_labour_plus_parts_from_the_lines_in_integers(session, make):
    technician = staff_member(session)
    order = create(session, make.customer())
    service.add_line(session, order, kind="labour", description=" Diagnosis ", quantity=1, unit_price_minor=30000,
                     actor=technician)
    service.add_line(session, order, kind="labour", description="Soldering", quantity=2, unit_price_minor=45050,
                     actor=technician)
    service.add_line(session, order, kind="part", description="Charging port", quantity=3, unit_price_minor=19999,
                     actor=technician)
    order = loaded(session, order)
    totals = service.order_totals(order.lines)
    assert totals.labour_minor == 30000 + 2 * 45050
    assert totals.parts_minor == 3 * 19999
    assert totals.total_minor == 30000 + 2 * 45050 + 3 * 19999
    assert all(type(v) is int for v in (totals.labour_minor, totals.parts_minor, totals.total_minor))
    assert order.lines[0].description == "Diagnosis"
    assert order.lines[0].created_by_id == technician.id


def test_an_order_without_lines_totals_zero():
    totals = service.order_totals([])
    assert (totals.labour_minor, totals.parts_minor, totals.total_minor) == (0, 0, 0)


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"kind": "gift"}, "kind"), ({"quantity": 0}, "quantity"), ({"unit_price_minor": -1}, "price")],
)
def test_a_bad_line_is_refused_naming_the_field(session, make, changes, field):
    order = create(session, make.customer())
    line = dict(kind="part", description="Battery", quantity=1, unit_price_minor=50000, actor=None)
    line.update(changes)
    with pytest.raises(OrderError) as caught:
        service.add_line(session, order, **line)
    assert caught.value.field == field


def test_a_line_is_removed_only_from_its_own_order(session, make):
    customer = make.customer()
    mine, other = create(session, customer), create(session, customer)
    line = service.add_line(session, mine, kind="part", description="Battery", quantity=1, unit_price_minor=50000,
                            actor=None)
    with pytest.raises(OrderError, match="does not exist on this order"):
        service.remove_line(session, other, line.id)
    assert session.get(RepairOrderLine, line.id) is not None
    service.remove_line(session, mine, line.id)
    assert session.scalar(select(RepairOrderLine).where(RepairOrderLine.id == line.id)) is None


def test_removing_an_unknown_line_is_refused(session, make):
    with pytest.raises(OrderError):
        service.remove_line(session, create(session, make.customer()), 999999)


# --- taking an order ------------------------------------------------------------------------------------

def test_a_technician_takes_an_unassigned_order_but_not_someone_elses(session, make):
    first, second = staff_member(session), staff_member(session)
    order = create(session, make.customer())
    service.assign_technician(session, order, first)
    service.assign_technician(session, order, first)  # taking it again is harmless
    assert order.technician_id == first.id
    with pytest.raises(OrderError, match="Another technician"):
        service.assign_technician(session, order, second)
    assert order.technician_id == first.id


# --- two desks at once ----------------------------------------------------------------------------------

def test_orders_created_at_the_same_time_get_distinct_numbers(app, session, make):
    """The counter row is created by whichever desk comes first and then locked by UPDATE until commit."""
    customer_id = make.customer().id
    session.commit()
    session.close()  # hold no transaction (on SQLite: no write lock) while the threads run
    desks, orders_each = 4, 3
    barrier = threading.Barrier(desks, timeout=10)
    numbers, errors = [], []

    def take_devices_in():
        with app.app_context():
            try:
                barrier.wait()
                for _ in range(orders_each):
                    order = create(db.session, db.session.get(Customer, customer_id))
                    db.session.commit()
                    numbers.append(order.number)
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                db.session.rollback()
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=take_devices_in) for _ in range(desks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(numbers) == [f"R-{n:05d}" for n in range(1, desks * orders_each + 1)]
    stored = session.scalars(select(RepairOrder.number)).all()
    assert sorted(stored) == sorted(numbers)


def test_front_desk_clerk_cannot_be_assigned_as_technician(app):
    from crm.extensions import db
    from crm.orders import service
    from tests import factories

    with app.app_context():
        clerk = factories.staff(role="front_desk")
        customer = factories.customer()
        with pytest.raises(service.OrderError) as caught:
            factories.order(customer, technician_id=clerk.id)
        assert caught.value.field == "technician_id"
        db.session.rollback()
