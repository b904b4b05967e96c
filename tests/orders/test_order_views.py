"""The order pages: intake at the desk, status changes, lines, the technician's queue, the desk's list, receipts.

Data is set up in its own app context and committed, so every request runs with a fresh session as
in production (an outer app context would be shared with the requests and hide a missing commit)."""

import itertools
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from crm.auth.models import Role, StaffUser
from crm.extensions import db
from crm.loyalty import accounts
from crm.loyalty.models import Tier
from crm.money import MAX_AMOUNT_MINOR, format_amount_plain
from crm.orders import service
from crm.orders.models import OrderStatusChange, RepairOrder, RepairOrderLine
from crm.orders.status import Status
from tests import factories
from tests.conftest import csrf_token
from tests.helpers import FormPage, app_session

VALID_IMEI = "490154203237518"
_numbers = itertools.count(1)


def staff_member(role: str = Role.TECHNICIAN, name: str | None = None) -> StaffUser:
    """A staff row that never logs in (no argon2 hashing): technicians to assign, authors of history rows."""
    n = next(_numbers)
    user = StaffUser(username=f"view-{role}-{n}", full_name=name or f"{role.title()} {n}", role=role,
                     password_hash="!unusable")
    db.session.add(user)
    db.session.flush()
    return user


_ROW = re.compile(r'<tr class="([^"]*)">\s*<td><a href="/orders/\d+">([^<]+)</a>')


def listed(html: str) -> list[str]:
    """Order numbers of the table rows, top to bottom."""
    return [number for _classes, number in _ROW.findall(html)]


def overdue_rows(html: str) -> set[str]:
    return {number for classes, number in _ROW.findall(html) if "overdue" in classes.split()}


def shop_today(app) -> date:
    return datetime.now(ZoneInfo(app.config["SHOP_TIMEZONE"])).date()


def intake_form(token, **changes):
    data = {"csrf_token": token, "device_type": "phone", "brand": "Samsung", "model": "Galaxy S21",
            "serial_number": "SN-77", "imei": VALID_IMEI, "condition": "Scratched back", "accessories": "Case",
            "problem": "Does not charge", "estimate": "1 250,50", "due_date": "2030-05-08", "priority": "1",
            "technician_id": "", "warranty_days": "30"}
    data.update(changes)
    return data


@pytest.fixture
def desk(auth):
    return auth.login("front_desk")


@pytest.fixture
def token(client, desk):
    return csrf_token(client, "/customers")


@pytest.fixture
def customer_id(app):
    with app_session(app):
        return factories.customer(name="Олена Коваль", phone="+380671234567").id


def make_order(app, **kwargs) -> tuple[int, str]:
    with app_session(app):
        order = factories.order(**kwargs)
        return order.id, order.number


# --- intake ---------------------------------------------------------------------------------------------

def test_desk_takes_a_device_in_from_the_customers_page(app, client, desk, token, customer_id):
    profile = client.get(f"/customers/{customer_id}").get_data(as_text=True)
    assert f'href="/orders/new?customer_id={customer_id}"' in profile
    form = client.get(f"/orders/new?customer_id={customer_id}")
    assert form.status_code == 200
    assert "Олена Коваль" in form.get_data(as_text=True)

    response = client.post(f"/orders/new?customer_id={customer_id}", data=intake_form(token))
    assert response.status_code == 302
    with app_session(app) as session:
        order = session.scalar(select(RepairOrder))
        assert response.headers["Location"].endswith(f"/orders/{order.id}")
        assert order.number == "R-00001"
        assert order.customer_id == customer_id
        assert (order.brand, order.model, order.imei, order.serial_number) == ("Samsung", "Galaxy S21", VALID_IMEI,
                                                                               "SN-77")
        assert order.estimate_minor == 125050
        assert (order.due_date, order.priority, order.warranty_days) == (date(2030, 5, 8), 1, 30)
        assert order.created_by_id == desk
        history = session.scalars(select(OrderStatusChange)).all()
        assert [(h.from_status, h.to_status, h.changed_by_id) for h in history] == [(None, "received", desk)]
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "R-00001" in detail and "Galaxy S21" in detail


@pytest.mark.parametrize("query", ["", "?customer_id=999999", "?customer_id=abc", "?customer_id=99999999999"])
def test_intake_without_a_known_customer_sends_the_desk_to_find_one(client, desk, query):
    response = client.get(f"/orders/new{query}")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/customers")


def test_wrong_imei_is_shown_at_the_imei_field_and_everything_else_is_kept(app, client, token, customer_id):
    typed = intake_form(token, imei="490154203237519")
    response = client.post(f"/orders/new?customer_id={customer_id}", data=typed)
    assert response.status_code in (200, 422)
    page = FormPage(response.get_data(as_text=True))
    assert list(page.errors) == ["imei"]
    assert "IMEI is not valid" in page.errors["imei"][0]
    for name in ("device_type", "brand", "model", "serial_number", "imei", "condition", "accessories", "problem",
                 "estimate", "due_date", "priority", "technician_id", "warranty_days"):
        assert page.values[name] == typed[name], name
    with app_session(app) as session:
        assert session.scalar(select(RepairOrder)) is None


def test_imei_of_the_wrong_length_is_refused_at_the_field(client, token, customer_id):
    response = client.post(f"/orders/new?customer_id={customer_id}", data=intake_form(token, imei="49015420323751"))
    assert FormPage(response.get_data(as_text=True)).errors == {"imei": ["An IMEI is exactly 15 digits."]}


def test_unusable_estimate_is_refused_at_the_field_and_kept_as_typed(app, client, token, customer_id, subtests):
    for estimate, message in [("12.345", "Use at most 2 decimal places."), ("abc", "This is not an amount."),
                              ("-5", "The amount cannot be negative."), ("1e3", "This is not an amount.")]:
        with subtests.test(estimate=estimate):
            response = client.post(f"/orders/new?customer_id={customer_id}",
                                   data=intake_form(token, estimate=estimate))
            assert response.status_code in (200, 422)
            page = FormPage(response.get_data(as_text=True))
            assert page.errors == {"estimate": [message]}
            assert page.values["estimate"] == estimate
            assert page.values["brand"] == "Samsung"
    with app_session(app) as session:
        assert session.scalar(select(RepairOrder)) is None


def test_estimate_may_be_left_empty(app, client, token, customer_id):
    response = client.post(f"/orders/new?customer_id={customer_id}", data=intake_form(token, estimate=""))
    assert response.status_code == 302
    with app_session(app) as session:
        assert session.scalar(select(RepairOrder.estimate_minor)) is None


def test_the_largest_amount_a_form_accepts_can_be_stored(app, client, token, customer_id):
    """Whatever parse_amount lets through must fit the amount columns (INTEGER on PostgreSQL)."""
    largest = format_amount_plain(MAX_AMOUNT_MINOR, app.config["CURRENCY"])
    response = client.post(f"/orders/new?customer_id={customer_id}", data=intake_form(token, estimate=largest))
    assert response.status_code == 302
    order_id = int(response.headers["Location"].rsplit("/", 1)[1])
    response = client.post(f"/orders/{order_id}/lines", data={"csrf_token": token, "kind": "part",
                                                              "description": "Gold-plated board", "quantity": "1",
                                                              "price": largest})
    assert response.status_code == 302
    with app_session(app) as session:
        assert session.get(RepairOrder, order_id).estimate_minor == MAX_AMOUNT_MINOR
        assert session.scalar(select(RepairOrderLine.unit_price_minor)) == MAX_AMOUNT_MINOR


def test_edit_shows_the_estimate_in_major_units_and_saves_changes(app, client, token):
    order_id, _ = make_order(app, estimate_minor=125050)
    page = FormPage(client.get(f"/orders/{order_id}/edit").get_data(as_text=True))
    assert page.values["estimate"] == "1250.50"
    response = client.post(f"/orders/{order_id}/edit", data=intake_form(token, model="Galaxy S22", estimate="99"))
    assert response.status_code == 302
    with app_session(app) as session:
        order = session.get(RepairOrder, order_id)
        assert (order.model, order.estimate_minor) == ("Galaxy S22", 9900)


def test_a_closed_order_cannot_be_edited_through_the_form(app, client, token):
    order_id, _ = make_order(app)
    with app_session(app) as session:
        session.get(RepairOrder, order_id).status = Status.CANCELLED.value
    assert f"/orders/{order_id}/edit" not in client.get(f"/orders/{order_id}").get_data(as_text=True)
    response = client.post(f"/orders/{order_id}/edit", data=intake_form(token, model="Changed"))
    assert response.status_code in (200, 422)
    assert "A closed order cannot be edited." in response.get_data(as_text=True)
    with app_session(app) as session:
        assert session.get(RepairOrder, order_id).model == "iPhone 12"


# --- status changes -------------------------------------------------------------------------------------

def test_technician_moves_an_order_on_from_the_detail_page(app, client, auth):
    technician = auth.login("technician")
    order_id, _ = make_order(app)
    page = FormPage(client.get(f"/orders/{order_id}").get_data(as_text=True))
    assert page.values["expected_from"] == "received"
    token = csrf_token(client, f"/orders/{order_id}")
    response = client.post(f"/orders/{order_id}/status", data={"csrf_token": token, "status": "diagnosing",
                                                               "note": "Opened it", "expected_from": "received"})
    assert response.status_code == 302
    with app_session(app) as session:
        assert session.get(RepairOrder, order_id).status == "diagnosing"
        last = session.scalars(select(OrderStatusChange).order_by(OrderStatusChange.id.desc())).first()
        assert (last.from_status, last.to_status, last.changed_by_id, last.note) == ("received", "diagnosing",
                                                                                     technician, "Opened it")
    assert "Opened it" in client.get(f"/orders/{order_id}").get_data(as_text=True)


REFUSED_CHANGES = [
    ("ready", "received", "An order cannot go from Received to Ready for pickup."),
    ("diagnosing", "received", "Your role cannot set an order to Diagnosing."),
    ("cancelled", "diagnosing", "Someone changed this order meanwhile; it is now Received."),
    ("fixed", "received", "Not a valid choice."),
    ("", "received", "Choose the new status."),
]


def test_a_refused_status_change_is_422_with_the_error_and_changes_nothing(app, client, token, subtests):
    for target, expected_from, message in REFUSED_CHANGES:
        with subtests.test(target=target, expected_from=expected_from):
            order_id, _ = make_order(app)
            response = client.post(f"/orders/{order_id}/status", data={"csrf_token": token, "status": target,
                                                                       "expected_from": expected_from})
            assert response.status_code == 422
            assert FormPage(response.get_data(as_text=True)).errors["status"] == [message]
            with app_session(app) as session:
                assert session.get(RepairOrder, order_id).status == "received"
                history = session.scalars(select(OrderStatusChange).where(OrderStatusChange.order_id == order_id))
                assert len(history.all()) == 1


def test_no_status_is_preselected_so_a_careless_click_changes_nothing(app, client, desk):
    order_id, _ = make_order(app)
    html = client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "status" not in FormPage(html).values  # no option carries "selected"...
    first_option = re.search(r'<select[^>]*id="status"[^>]*>\s*<option([^>]*)>', html).group(1)
    assert 'value=""' in first_option  # ...so the browser shows the empty "Choose…" first option


def test_a_status_post_without_csrf_token_changes_nothing(app, client, desk):
    order_id, _ = make_order(app)
    response = client.post(f"/orders/{order_id}/status", data={"status": "cancelled", "expected_from": "received"})
    assert response.status_code in (400, 422)
    with app_session(app) as session:
        assert session.get(RepairOrder, order_id).status == "received"


UNKNOWN_ORDER_URLS = [
    ("get", "/orders/999999"), ("get", "/orders/999999/receipt"), ("get", "/orders/999999/edit"),
    ("post", "/orders/999999/status"), ("post", "/orders/999999/lines"), ("post", "/orders/999999/lines/1/delete"),
    # Beyond a 32-bit id: PostgreSQL refuses to compare it with an INTEGER column.
    ("get", "/orders/99999999999"), ("post", "/orders/99999999999/status"),
    ("post", "/orders/99999999999/lines/1/delete"),
]


def test_unknown_order_is_404(client, token, subtests):
    for method, path in UNKNOWN_ORDER_URLS:
        with subtests.test(method=method, path=path):
            response = getattr(client, method)(path, data={"csrf_token": token} if method == "post" else None)
            assert response.status_code == 404


def test_unknown_order_is_404_for_a_technician_taking_it(client, auth):
    auth.login("technician")
    token = csrf_token(client, "/orders/queue")
    assert client.post("/orders/999999/assign-me", data={"csrf_token": token}).status_code == 404


# --- lines ----------------------------------------------------------------------------------------------

def test_a_line_with_an_unreadable_price_is_refused_at_the_price_keeping_the_description(app, client, token):
    order_id, _ = make_order(app)
    response = client.post(f"/orders/{order_id}/lines", data={"csrf_token": token, "kind": "part",
                                                              "description": "Charging port", "quantity": "2",
                                                              "price": "abc"})
    assert response.status_code == 422
    page = FormPage(response.get_data(as_text=True))
    assert page.errors == {"price": ["This is not an amount."]}
    assert (page.values["description"], page.values["quantity"], page.values["price"], page.values["kind"]) == (
        "Charging port", "2", "abc", "part")
    with app_session(app) as session:
        assert session.scalar(select(RepairOrderLine)) is None


def test_lines_are_added_and_totalled(app, client, token):
    order_id, _ = make_order(app)
    for kind, description, quantity, price in [("labour", "Diagnosis", "1", "300"), ("part", "Port", "2", "1 250,50")]:
        line = {"csrf_token": token, "kind": kind, "description": description, "quantity": quantity, "price": price}
        assert client.post(f"/orders/{order_id}/lines", data=line).status_code == 302
    html = client.get(f"/orders/{order_id}").get_data(as_text=True)
    total = re.search(r'id="order-total">([^<]+)<', html).group(1)
    assert total == "UAH2,801.00"  # 300.00 + 2 x 1250.50


def test_a_line_cannot_be_removed_through_another_order(app, client, token):
    mine, _ = make_order(app)
    other, _ = make_order(app)
    with app_session(app) as session:
        line = service.add_line(session, session.get(RepairOrder, mine), kind="part", description="Battery",
                                quantity=1, unit_price_minor=100, actor=None)
        line_id = line.id
    response = client.post(f"/orders/{other}/lines/{line_id}/delete", data={"csrf_token": token})
    assert response.status_code == 302
    assert "This line does not exist on this order." in client.get(f"/orders/{other}").get_data(as_text=True)
    with app_session(app) as session:
        assert session.get(RepairOrderLine, line_id) is not None
    assert client.post(f"/orders/{mine}/lines/{line_id}/delete", data={"csrf_token": token}).status_code == 302
    with app_session(app) as session:
        assert session.get(RepairOrderLine, line_id) is None


# --- the technician's queue -----------------------------------------------------------------------------

def test_queue_shows_own_and_unassigned_open_orders_urgent_first_then_own_then_due_date(app, client, auth):
    me = auth.login("technician")
    today = shop_today(app)
    with app_session(app):
        other = staff_member()
        n = {}
        for label, priority, technician_id, due, status in [
            ("own_no_due", 0, me, None, "received"),
            ("unassigned_overdue", 0, None, today - timedelta(days=2), "received"),
            ("own_late", 0, me, today + timedelta(days=4), "in_repair"),
            ("others_urgent", 2, other.id, today, "received"),
            ("own_soon", 0, me, today + timedelta(days=1), "awaiting_parts"),
            ("own_ready", 2, me, today - timedelta(days=1), "ready"),
            ("own_picked_up", 2, me, today, "picked_up"),
            ("own_high", 1, me, today + timedelta(days=10), "diagnosing"),
            ("unassigned_urgent", 2, None, today + timedelta(days=5), "received"),
        ]:
            order = factories.order(priority=priority, technician_id=technician_id, due_date=due)
            order.status = status
            n[label] = order.number
    html = client.get("/orders/queue").get_data(as_text=True)
    assert listed(html) == [n["unassigned_urgent"], n["own_high"], n["own_soon"], n["own_late"], n["own_no_due"],
                            n["unassigned_overdue"]]
    assert overdue_rows(html) == {n["unassigned_overdue"]}


def _row_of(html: str, number: str) -> str:
    return re.search(r'<tr class="[^"]*">\s*<td><a href="/orders/\d+">' + re.escape(number) + r"</a>.*?</tr>",
                     html, re.S).group(0)


def test_each_row_shows_the_customer_phone_device_technician_and_in_the_queue_the_vip_badge(app, client, auth):
    me = auth.login("technician")
    with app_session(app) as session:
        gold = factories.customer(name="Olena <b>Gold</b>", phone="+380671234501")
        accounts.enrol(session, gold).tier_id = session.scalar(select(Tier.id).where(Tier.name == "Gold"))
        vip = factories.order(gold, technician_id=me, brand="Xiaomi", model="Redmi 9").number
        plain = factories.order(factories.customer(name="Ivan Plain", phone="+380671234502")).number
        name = session.get(StaffUser, me).full_name
    queue = client.get("/orders/queue").get_data(as_text=True)
    row = _row_of(queue, vip)
    assert "Olena &lt;b&gt;Gold&lt;/b&gt;" in row and "VIP" in row and "Xiaomi Redmi 9" in row and name in row
    assert "+380 67 123 4501" in row or "067 123 4501" in row
    assert "VIP" not in _row_of(queue, plain) and "Unassigned" in _row_of(queue, plain)
    auth.logout()
    auth.login("front_desk")
    listing = client.get("/orders").get_data(as_text=True)
    assert "Olena &lt;b&gt;Gold&lt;/b&gt;" in _row_of(listing, vip) and name in _row_of(listing, vip)
    assert "VIP" not in listing and "Ivan Plain" in _row_of(listing, plain)


def test_ready_and_closed_orders_are_never_marked_overdue(app, client, desk):
    past = shop_today(app) - timedelta(days=3)
    numbers = {}
    with app_session(app):
        for status in ("received", "ready", "picked_up", "cancelled"):
            order = factories.order(due_date=past)
            order.status = status
            numbers[status] = order.number
    html = client.get("/orders").get_data(as_text=True)
    assert overdue_rows(html) == {numbers["received"]}


# --- the desk's list ------------------------------------------------------------------------------------

def taken_in(customer, when: datetime, **fields) -> RepairOrder:
    data = dict(device_type="phone", brand="Apple", model="iPhone 12", problem="Cracked screen")
    data.update(fields)
    return service.create_order(db.session, customer, service.OrderData(**data), created_by=None,
                                number_prefix="R-", now=when)


@pytest.fixture
def listed_orders(app):
    """Three orders on both sides of a shop-local midnight (Kyiv is UTC+2 in March)."""
    with app_session(app):
        olena = factories.customer(name="Олена Коваль", phone="+380671234567")
        ivan = factories.customer(name="Ivan Franko", phone="+380509998877")
        tech_a, tech_b = staff_member(name="Tech A"), staff_member(name="Tech B")
        first = taken_in(olena, datetime(2024, 3, 10, 12, 0, tzinfo=UTC), technician_id=tech_a.id, imei=VALID_IMEI)
        second = taken_in(ivan, datetime(2024, 3, 15, 12, 0, tzinfo=UTC), technician_id=tech_b.id)
        second.status = "diagnosing"
        third = taken_in(ivan, datetime(2024, 3, 11, 23, 30, tzinfo=UTC))  # 12 March in Kyiv
        third.status = "picked_up"
        return {"first": first.number, "second": second.number, "third": third.number,
                "tech_a": tech_a.id, "tech_b": tech_b.id}


LIST_FILTERS = [
    ("", ["third", "second", "first"]),  # newest first
    ("status=received", ["first"]),
    ("status=open", ["second", "first"]),
    ("status=picked_up", ["third"]),
    ("status=nonsense", ["third", "second", "first"]),
    ("technician={tech_a}", ["first"]),
    ("technician={tech_b}", ["second"]),
    ("technician=none", ["third"]),
    ("from=2024-03-12", ["third", "second"]),
    ("to=2024-03-11", ["first"]),
    ("from=2024-03-12&to=2024-03-12", ["third"]),
    ("from=not-a-date", ["third", "second", "first"]),
    ("q=R-00002", ["second"]),
    ("q=r-00003", ["third"]),
    ("q=067 123", ["first"]),
    ("q=0509998", ["third", "second"]),
    ("q=ОЛЕН", ["first"]),
    ("q=franko", ["third", "second"]),
    ("q=4901542", ["first"]),
    ("q=galaxy", []),
    ("status=picked_up&q=franko", ["third"]),
]


def test_desk_list_filters(client, desk, listed_orders, subtests):
    for query, expected in LIST_FILTERS:
        with subtests.test(query=query):
            response = client.get("/orders?" + query.format(**listed_orders))
            assert response.status_code == 200
            assert listed(response.get_data(as_text=True)) == [listed_orders[key] for key in expected]


ODD_FILTERS = ["from=0001-01-01", "to=9999-12-31", "from=9999-12-31&to=0001-01-01", "technician=²", "technician=１",
               "technician=99999999999", "page=-1", "page=abc", "q=%25_%25", "q=" + "9" * 300]


def test_desk_list_survives_odd_filters(client, desk, listed_orders, subtests):
    for query in ODD_FILTERS:
        with subtests.test(query=query[:40]):
            assert client.get("/orders?" + query).status_code == 200


# --- receipts -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "size_class"), [("", "receipt-a4"), ("?size=80mm", "receipt-80mm")])
def test_receipt_has_the_number_a_qr_code_and_the_tracking_link(app, client, desk, query, size_class):
    order_id, number = make_order(app)
    with app_session(app) as session:
        token = session.get(RepairOrder, order_id).tracking_token
    response = client.get(f"/orders/{order_id}/receipt{query}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert number in html
    assert 'src="data:image/svg+xml' in html
    assert f"https://crm.example.test/t/{token}" in html
    assert f'class="receipt {size_class}"' in html


# --- statements per page --------------------------------------------------------------------------------

def statements_for(client, count_queries, path) -> int:
    with count_queries() as counter:
        response = client.get(path)
    assert response.status_code == 200, path
    return counter.count


def add_orders(app, count, technician_id=None):
    """Orders each with its own customer and (unless given) its own technician: an N+1 would show."""
    with app_session(app):
        for i in range(count):
            tech = technician_id if technician_id else staff_member().id
            factories.order(technician_id=tech if i % 3 else None, priority=i % 3)


def test_order_list_statement_count_does_not_grow_with_orders(app, client, desk, count_queries):
    add_orders(app, 3)
    few = statements_for(client, count_queries, "/orders")
    add_orders(app, 22)
    assert statements_for(client, count_queries, "/orders") == few
    # A text search may first try the newest orders alone (crm.orders.queries._newest_matching): two more at most.
    assert statements_for(client, count_queries, "/orders?q=olena&status=open") <= few + 2
    assert few <= 4


def test_queue_statement_count_does_not_grow_with_orders(app, client, auth, count_queries):
    me = auth.login("technician")
    add_orders(app, 3, technician_id=me)
    few = statements_for(client, count_queries, "/orders/queue")
    add_orders(app, 22, technician_id=me)
    assert len(listed(client.get("/orders/queue").get_data(as_text=True))) == 25
    assert statements_for(client, count_queries, "/orders/queue") == few
    assert few <= 3


def test_order_detail_statement_count_does_not_grow_with_lines_and_history(app, client, desk, count_queries):
    with app_session(app) as session:
        small = factories.order(created_by=staff_member(Role.FRONT_DESK), technician_id=staff_member().id)
        service.add_line(session, small, kind="part", description="Part", quantity=1, unit_price_minor=100,
                         actor=None)
        big = factories.order(created_by=staff_member(Role.FRONT_DESK), technician_id=staff_member().id)
        for i in range(10):
            service.add_line(session, big, kind="labour" if i % 2 else "part", description=f"Line {i}", quantity=1,
                             unit_price_minor=100 * i, actor=staff_member())
        walk = ["diagnosing", "in_repair"] + ["awaiting_parts", "in_repair"] * 3 + ["ready"]
        for target in walk:  # nine changes, each by another person, plus the intake row
            service.change_status(session, big, target, actor=staff_member(Role.MANAGER), note=f"to {target}")
        small_id, big_id = small.id, big.id
    few = statements_for(client, count_queries, f"/orders/{small_id}")
    with count_queries() as counter:
        assert client.get(f"/orders/{big_id}").status_code == 200
    assert counter.count == few
    assert few <= 5
    # The quote's decision comes from the decisions listed on the page, not from a statement of its own.
    assert sum("FROM orders_quote_decision" in statement for statement in counter.statements) == 1
    with app_session(app) as session:
        assert len(session.scalars(select(OrderStatusChange).where(OrderStatusChange.order_id == big_id)).all()) == 10
