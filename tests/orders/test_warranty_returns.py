"""Warranty returns: the desk links a new order to an earlier order of the same customer still under warranty;
its work is free unless priced, and its checkout earns no points for the repair."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from crm.auth.models import Role
from crm.database import utcnow
from crm.loyalty import accounts
from crm.loyalty.program import update_program
from crm.orders import service
from crm.orders.models import RepairOrder
from crm.orders.status import Status
from crm.orders.warranty import warranty_candidates
from crm.sales import checkout
from crm.shop_time import local_date
from tests import factories
from tests.conftest import csrf_token
from tests.factories.sales import new_item, pay, ready_order, staff_member
from tests.helpers import FormPage, app_session

NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
DEVICE = dict(device_type="phone", brand="Apple", model="iPhone 12", problem="Screen again")


def picked_up(session, customer, *, closed_at, warranty_days: int = 90, technician_id=None) -> RepairOrder:
    """An earlier order handed back at ``closed_at`` (built by hand: the workflow is tested elsewhere)."""
    order = factories.order(customer, warranty_days=warranty_days, technician_id=technician_id)
    order.status, order.closed_at = Status.PICKED_UP.value, closed_at
    session.flush()
    return order


def new_order(session, customer, warranty_of_id, now=NOW):
    return service.create_order(session, customer, service.OrderData(**DEVICE, warranty_of_id=warranty_of_id),
                                created_by=None, number_prefix="R-", now=now)


def test_candidates_are_the_customers_picked_up_orders_still_under_warranty(session):
    anna, boris = factories.customer(), factories.customer()
    recent = picked_up(session, anna, closed_at=NOW - timedelta(days=10))
    last_day = picked_up(session, anna, closed_at=NOW - timedelta(days=30), warranty_days=30)
    picked_up(session, anna, closed_at=NOW - timedelta(days=31), warranty_days=30)  # ended yesterday
    picked_up(session, anna, closed_at=NOW - timedelta(days=5), warranty_days=0)  # no warranty
    factories.order(anna)  # still open
    picked_up(session, boris, closed_at=NOW - timedelta(days=1))  # another customer's
    found = warranty_candidates(session, anna.id, local_date(NOW))
    assert [o.id for o in found] == [recent.id, last_day.id]


def test_an_order_becomes_the_warranty_return_of_an_earlier_one(session):
    anna = factories.customer()
    earlier = picked_up(session, anna, closed_at=NOW - timedelta(days=10))
    order = new_order(session, anna, earlier.id)
    assert order.warranty_of_id == earlier.id


@pytest.mark.parametrize("case, message", [
    ("other_customer", "another customer's order"),
    ("expired", "has ended"),
    ("not_picked_up", "has not been picked up"),
    ("unknown", "Choose an earlier order"),
])
def test_a_wrong_earlier_order_is_refused_at_the_field(session, case, message):
    anna, boris = factories.customer(), factories.customer()
    earlier = {
        "other_customer": lambda: picked_up(session, boris, closed_at=NOW - timedelta(days=1)).id,
        "expired": lambda: picked_up(session, anna, closed_at=NOW - timedelta(days=100), warranty_days=90).id,
        "not_picked_up": lambda: factories.order(anna).id,
        "unknown": lambda: 999_999,
    }[case]()
    with pytest.raises(service.OrderError) as refused:
        new_order(session, anna, earlier)
    assert refused.value.field == "warranty_of_id" and message in str(refused.value.message)


def test_an_order_cannot_be_its_own_warranty_return(session):
    anna = factories.customer()
    order = factories.order(anna)
    data = service.OrderData(**DEVICE, warranty_of_id=order.id)
    with pytest.raises(service.OrderError) as refused:
        service.update_order(session, order, data)
    assert refused.value.field == "warranty_of_id"


def test_work_on_a_warranty_return_is_free_unless_priced(session):
    anna = factories.customer()
    earlier = picked_up(session, anna, closed_at=NOW - timedelta(days=10))
    order = new_order(session, anna, earlier.id)
    free = service.add_line(session, order, kind="labour", description="Screen", quantity=1, actor=None)
    priced = service.add_line(session, order, kind="labour", description="Extra", quantity=1,
                              unit_price_minor=5_000, actor=None)
    assert (free.unit_price_minor, priced.unit_price_minor) == (0, 5_000)
    with pytest.raises(service.OrderError):  # a part still needs its price
        service.add_line(session, order, kind="part", description="Glue", quantity=1, actor=None)
    plain = factories.order(anna)
    with pytest.raises(service.OrderError):  # an ordinary order's work needs a price
        service.add_line(session, plain, kind="labour", description="Screen", quantity=1, actor=None)


def _member(session):
    update_program(session, {"welcome_bonus": 0}, actor=None)
    customer = factories.customer()
    accounts.enrol(session, customer, now=NOW - timedelta(days=30))
    return customer


def test_a_warranty_return_earns_no_points_for_the_repair_but_items_sold_with_it_do(session):
    desk = staff_member(session, Role.FRONT_DESK)
    customer = _member(session)
    earlier = picked_up(session, customer, closed_at=NOW - timedelta(days=10))
    order = ready_order(session, lines=(("labour", 1, 120_000),), customer=customer)
    order.warranty_of_id = earlier.id
    sale = checkout.sale_for_repair(session, order.id, actor=desk)
    case = new_item(session, price_minor=10_000, on_hand=1)  # accessory: 3%
    checkout.add_item(session, sale, case, 1)
    paid = pay(session, sale.id, actor=desk, now=NOW)
    assert paid.total_minor == 130_000  # the desk priced the work: it is charged
    assert paid.points_earned == 3  # only the case's 3% of 100.00; the repair's 60 points are not earned
    ordinary = pay(session, checkout.sale_for_repair(session, ready_order(session, customer=customer).id,
                                                     actor=desk).id, actor=desk, now=NOW)
    assert ordinary.points_earned == 60


# --- the desk's pages -----------------------------------------------------------------------------------

def test_the_desk_marks_a_warranty_return_and_the_order_page_says_so(app, client, auth):
    auth.login("front_desk")
    with app_session(app) as session:
        anna, boris = factories.customer(), factories.customer()
        earlier = picked_up(session, anna, closed_at=utcnow() - timedelta(days=3))
        foreign = picked_up(session, boris, closed_at=utcnow() - timedelta(days=3))
        ids = anna.id, earlier.id, earlier.number, foreign.id, foreign.number
    anna_id, earlier_id, earlier_number, foreign_id, foreign_number = ids
    page = client.get(f"/orders/new?customer_id={anna_id}").get_data(as_text=True)
    assert f'<option value="{earlier_id}">{earlier_number},' in page and foreign_number not in page
    token = csrf_token(client, f"/orders/new?customer_id={anna_id}")
    form = {"csrf_token": token, **DEVICE, "priority": "0", "technician_id": "", "warranty_days": "90",
            "device_type": "phone"}
    refused = client.post(f"/orders/new?customer_id={anna_id}", data={**form, "warranty_of_id": str(foreign_id)})
    assert refused.status_code in (200, 422)
    errors = FormPage(refused.get_data(as_text=True)).errors
    assert list(errors) == ["warranty_of_id"] and "another customer" in errors["warranty_of_id"][0]
    for junk in ("abc", "-1", "1" * 30):
        bad = client.post(f"/orders/new?customer_id={anna_id}", data={**form, "warranty_of_id": junk})
        assert bad.status_code in (200, 422) and list(FormPage(bad.get_data(as_text=True)).errors) == ["warranty_of_id"]
    done = client.post(f"/orders/new?customer_id={anna_id}", data={**form, "warranty_of_id": str(earlier_id)})
    assert done.status_code == 302
    detail = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Warranty return of" in detail and earlier_number in detail
    with app_session(app) as session:
        order = session.scalar(select(RepairOrder).where(RepairOrder.warranty_of_id == earlier_id))
        assert order is not None and order.customer_id == anna_id
