"""The desk's sales pages through Flask's test client: carts, checkout, receipts, refunds, roles."""

import re

import pytest
from sqlalchemy import func, select

from crm.auth.models import Role
from crm.catalogue.models import CatalogueItem, ItemCategory
from crm.catalogue.stock import movements_sum, record_movement
from crm.extensions import db
from crm.orders import service as order_service
from crm.orders.models import RepairOrder
from crm.orders.status import Status
from crm.sales import checkout, pricing
from crm.sales.models import Payment, Refund, Sale, SaleLine
from tests import factories
from tests.conftest import csrf_token
from tests.helpers import FormPage, app_session

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


def add_item(sku, name, price_minor, on_hand=10, category="accessory", tracked=True) -> int:
    category_id = db.session.scalar(select(ItemCategory.id).where(ItemCategory.code == category))
    item = CatalogueItem(sku=sku, name=name, category_id=category_id, price_minor=price_minor, cost_minor=0,
                         stock_tracked=tracked)
    db.session.add(item)
    db.session.flush()
    if tracked and on_hand:
        record_movement(db.session, item, "received", on_hand, actor=None)
    return item.id


@pytest.fixture
def desk(auth):
    return auth.login(Role.FRONT_DESK)


@pytest.fixture
def stock(app):
    with app_session(app):
        return {"case": add_item("CASE-1", "Silicone case", 35000),
                "protector": add_item("GLASS-1", "Screen protector", 25000),
                "charger": add_item("CHG-20W", "Charger 20 W", 79900, on_hand=3)}


def new_sale(client) -> int:
    response = client.post("/sales/new", data={"csrf_token": csrf_token(client, "/sales")})
    assert response.status_code == 302
    return int(re.search(r"/sales/(\d+)$", response.headers["Location"]).group(1))


def add(client, sale_id, sku, quantity=1, discount=""):
    token = csrf_token(client, f"/sales/{sale_id}")
    return client.post(f"/sales/{sale_id}/items", data={"sku": sku, "quantity": str(quantity),
                                                         "discount": discount, "csrf_token": token})


def pay_form(client, sale_id) -> dict:
    """The checkout form's hidden fields as the page renders them."""
    html = client.get(f"/sales/{sale_id}").get_data(as_text=True)
    values = FormPage(html).values
    return {"csrf_token": values["csrf_token"], "key": values["key"], "expected_total": values["expected_total"]}


def test_a_walk_in_buys_a_case_and_a_screen_protector_with_cash_and_gets_change(app, client, desk, stock):
    sale_id = new_sale(client)
    assert add(client, sale_id, "case-1").status_code == 302  # SKU typed in lower case still matches
    assert add(client, sale_id, "GLASS-1", discount="10%").status_code == 302
    form = pay_form(client, sale_id)
    assert form["expected_total"] == "57500"  # 350.00 + 250.00 - 25.00
    response = client.post(f"/sales/{sale_id}/pay", data={**form, "pay_0": "600"})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Change due" in page and "25.00" in page
    with app.app_context():
        sale = db.session.get(Sale, sale_id)
        assert (sale.status, sale.total_minor, sale.change_minor, sale.customer_id) == ("paid", 57500, 2500, None)
        payments = db.session.scalars(select(Payment).where(Payment.sale_id == sale_id)).all()
        assert [(p.method, p.amount_minor, p.tendered_minor) for p in payments] == [("cash", 57500, 60000)]
        case = db.session.get(CatalogueItem, stock["case"])
        assert case.on_hand == 9 == movements_sum(db.session, case.id)


def test_a_finished_repair_and_a_charger_are_paid_in_one_split_checkout(app, client, desk, stock):
    with app_session(app) as session:
        customer = factories.customer(name="Olena Franko")
        order = factories.order(customer)
        order_service.add_line(session, order, kind="labour", description="Screen replacement", quantity=1,
                               unit_price_minor=60000, actor=None)
        order_service.add_line(session, order, kind="part", description="OLED screen", quantity=1,
                               unit_price_minor=150000, actor=None)
        order.status = Status.READY.value
        order_id = order.id
    token = csrf_token(client, f"/orders/{order_id}")
    assert "Check out and hand back" in client.get(f"/orders/{order_id}").get_data(as_text=True)
    response = client.post(f"/sales/for-order/{order_id}", data={"csrf_token": token})
    sale_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert add(client, sale_id, "CHG-20W").status_code == 302
    form = pay_form(client, sale_id)
    assert form["expected_total"] == "289900"
    response = client.post(f"/sales/{sale_id}/pay", data={**form, "pay_0": "1000", "pay_1": "1899"})
    assert response.status_code == 302
    with app.app_context():
        sale = db.session.get(Sale, sale_id)
        assert sale.customer_id is not None and sale.total_minor == 289900 and sale.change_minor == 0
        assert db.session.get(RepairOrder, order_id).status == "picked_up"
        methods = dict(db.session.execute(select(Payment.method, Payment.amount_minor)
                                          .where(Payment.sale_id == sale_id)).all())
        assert methods == {"cash": 100000, "card": 189900}
    receipt = client.get(f"/sales/{sale_id}/receipt").get_data(as_text=True)
    assert "OLED screen" in receipt and "Charger 20 W" in receipt and "data:image/svg+xml" in receipt
    assert "Warranty" in receipt
    assert client.get(f"/sales/{sale_id}/receipt?size=80mm").status_code == 200


def test_the_same_checkout_posted_twice_pays_once_and_shows_the_same_receipt(app, client, desk, stock):
    sale_id = new_sale(client)
    add(client, sale_id, "CASE-1")
    form = {**pay_form(client, sale_id), "pay_1": "350"}
    first = client.post(f"/sales/{sale_id}/pay", data=form)
    second = client.post(f"/sales/{sale_id}/pay", data=form)
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    with app.app_context():
        assert db.session.scalar(select(func.count(Payment.id))) == 1
        assert db.session.get(CatalogueItem, stock["case"]).on_hand == 9


def test_a_second_desk_paying_a_paid_bill_is_told_so(app, client, desk, stock):
    sale_id = new_sale(client)
    add(client, sale_id, "CASE-1")
    first_desk = pay_form(client, sale_id)
    other_desk = {**pay_form(client, sale_id), "pay_1": "350"}
    assert first_desk["key"] != other_desk["key"]
    client.post(f"/sales/{sale_id}/pay", data={**first_desk, "pay_0": "350"})
    response = client.post(f"/sales/{sale_id}/pay", data=other_desk, follow_redirects=True)
    assert "already paid" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Payment.id))) == 1


def test_a_posted_total_is_never_trusted(app, client, desk, stock):
    sale_id = new_sale(client)
    add(client, sale_id, "CASE-1")
    form = {**pay_form(client, sale_id), "expected_total": "1", "pay_0": "0.01"}
    response = client.post(f"/sales/{sale_id}/pay", data=form)
    assert response.status_code == 422
    assert "bill changed" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Sale, sale_id).status == "open"


@pytest.mark.parametrize(("payments", "message"), [
    ({"pay_0": "100"}, "do not cover"),
    ({"pay_1": "400"}, "cannot be more than the amount due"),
    ({"pay_0": "abc"}, "not an amount"),
])
def test_bad_payments_are_refused_next_to_the_field_and_kept(app, client, desk, stock, payments, message):
    sale_id = new_sale(client)
    add(client, sale_id, "CASE-1")
    response = client.post(f"/sales/{sale_id}/pay", data={**pay_form(client, sale_id), **payments})
    assert response.status_code == 422
    page = FormPage(response.get_data(as_text=True))
    field = next(iter(payments))
    assert page.values[field] == payments[field]
    assert any(message in error for errors in page.errors.values() for error in errors), page.errors


def test_more_than_in_stock_is_refused_with_a_clear_message(app, client, desk, stock):
    sale_id = new_sale(client)
    response = add(client, sale_id, "CHG-20W", quantity=4)
    assert response.status_code == 422
    assert "Only 3 of Charger 20 W in stock" in response.get_data(as_text=True)
    assert FormPage(response.get_data(as_text=True)).values["quantity"] == "4"


def test_unknown_sku_and_bad_discount_are_errors_at_their_fields(app, client, desk, stock):
    sale_id = new_sale(client)
    page = FormPage(add(client, sale_id, "NOPE").get_data(as_text=True))
    assert page.errors["sku"] == ["No item has this SKU."]
    page = FormPage(add(client, sale_id, "CASE-1", discount="120%").get_data(as_text=True))
    assert page.errors["discount"] and page.values["discount"] == "120%"


def test_a_known_customer_is_attached_by_phone(app, client, desk, stock):
    with app_session(app):
        customer_id = factories.customer(phone="+380671112233").id
    sale_id = new_sale(client)
    token = csrf_token(client, f"/sales/{sale_id}")
    client.post(f"/sales/{sale_id}/customer", data={"phone": "067 111 22 33", "csrf_token": token})
    with app.app_context():
        assert db.session.get(Sale, sale_id).customer_id == customer_id
    response = client.post(f"/sales/{sale_id}/customer", data={"phone": "067 999 88 77", "csrf_token": token})
    assert response.status_code == 422 and "No customer has this phone" in response.get_data(as_text=True)


def test_refund_of_one_unit_pays_back_its_share_and_returns_it_to_stock(app, client, desk, stock):
    sale_id = new_sale(client)
    add(client, sale_id, "CASE-1", quantity=2)
    client.post(f"/sales/{sale_id}/pay", data={**pay_form(client, sale_id), "pay_0": "700"})
    with app.app_context():
        line_id = db.session.scalar(select(SaleLine.id).where(SaleLine.sale_id == sale_id))
    html = client.get(f"/sales/{sale_id}/refund").get_data(as_text=True)
    values = FormPage(html).values
    data = {"csrf_token": values["csrf_token"], "key": values["key"], "method": "cash", "reason": "Wrong colour",
            f"qty_{line_id}": "1", f"restock_{line_id}": "y"}
    assert client.post(f"/sales/{sale_id}/refund", data=data).status_code == 302
    assert client.post(f"/sales/{sale_id}/refund", data=data).status_code == 302  # the same form again
    with app.app_context():
        refunds = db.session.scalars(select(Refund)).all()
        assert [(r.amount_minor, r.method) for r in refunds] == [(35000, "cash")]
        assert db.session.get(CatalogueItem, stock["case"]).on_hand == 9
    too_many = {**data, "key": "another-key", f"qty_{line_id}": "2"}
    response = client.post(f"/sales/{sale_id}/refund", data=too_many)
    assert response.status_code == 422


def test_refund_needs_a_reason(app, client, desk, stock):
    sale_id = new_sale(client)
    add(client, sale_id, "CASE-1")
    client.post(f"/sales/{sale_id}/pay", data={**pay_form(client, sale_id), "pay_1": "350"})
    values = FormPage(client.get(f"/sales/{sale_id}/refund").get_data(as_text=True)).values
    qty = next(k for k in values if k.startswith("qty_"))
    response = client.post(f"/sales/{sale_id}/refund", data={"csrf_token": values["csrf_token"], "key": values["key"],
                                                             "method": "card", "reason": "", qty: "1"})
    assert response.status_code == 422
    assert FormPage(response.get_data(as_text=True)).errors["reason"]


def test_technicians_cannot_sell(app, client, auth):
    auth.login(Role.TECHNICIAN)
    assert client.get("/sales").status_code == 403


def statements(client, count_queries, path) -> int:
    with count_queries() as counter:
        assert client.get(path).status_code == 200, path
    return counter.count


def paid_sales(app, count):
    with app_session(app) as session:
        cashier = factories.staff(role=Role.FRONT_DESK)
        item_id = add_item(f"BULK-{count}-{id(session)}", "Cable", 10000, on_hand=count)
        item = session.get(CatalogueItem, item_id)
        for _ in range(count):
            sale = checkout.open_sale(session, actor=cashier, customer=factories.customer())
            checkout.add_item(session, sale, item, 1)
            checkout.checkout(session, sale.id, key=f"k-{sale.id}", tenders=[pricing.Tender("card", 10000)],
                              expected_total_minor=10000, actor=cashier, payment_methods=["card"],
                              number_prefix="S-")


def test_sales_list_and_receipt_statement_counts_do_not_grow(app, client, desk, count_queries):
    paid_sales(app, 2)
    few = statements(client, count_queries, "/sales")
    paid_sales(app, 12)
    assert statements(client, count_queries, "/sales") == few
    with app.app_context():
        small, big = db.session.scalars(select(Sale.id).order_by(Sale.id)).all()[::13]
    assert statements(client, count_queries, f"/sales/{small}/paid") == statements(
        client, count_queries, f"/sales/{big}/paid")


def test_the_sales_list_shows_each_sales_customer_order_and_cashier(app, client, desk):
    with app_session(app) as session:
        cashier = factories.staff(role=Role.FRONT_DESK, full_name="Olena Kasa")
        customer = factories.customer(name="Taras <b>Bulba</b>")
        order = factories.order(customer)
        order.status = Status.READY.value
        item = session.get(CatalogueItem, add_item("LIST-1", "Cable", 10000, on_hand=2))
        numbers = []
        for who, repair in ((customer, order), (None, None)):
            sale = checkout.open_sale(session, actor=cashier, customer=who)
            sale.repair_order_id = repair.id if repair else None
            checkout.add_item(session, sale, item, 1)
            numbers.append(checkout.checkout(session, sale.id, key=f"list-{sale.id}", tenders=[
                pricing.Tender("card", 10000)], expected_total_minor=10000, actor=cashier, payment_methods=["card"],
                number_prefix="S-").number)
        order_number = order.number
        open_bill = checkout.open_sale(session, actor=factories.staff(role=Role.FRONT_DESK, full_name="Ivan Kasa"),
                                       customer=factories.customer(name="Open Bill Customer")).id
    html = client.get("/sales").get_data(as_text=True)
    started = re.search(rf'<tr>(?:(?!</tr>).)*?/sales/{open_bill}"', html, re.S).group(0)
    assert "Open Bill Customer" in started and "Ivan Kasa" in started and "—" in started
    rows = {number: re.search(rf'>{number}</a>.*?</tr>', html, re.S).group(0) for number in numbers}
    assert "Taras &lt;b&gt;Bulba&lt;/b&gt;" in rows[numbers[0]] and order_number in rows[numbers[0]]
    assert "Olena Kasa" in rows[numbers[0]] and "Olena Kasa" in rows[numbers[1]]
    assert "Walk-in" in rows[numbers[1]] and "—" in rows[numbers[1]] and "100" in rows[numbers[1]]


def test_a_sale_started_from_the_profile_belongs_to_the_customer_and_shows_there(app, client, desk, stock):
    with app_session(app):
        customer_id = factories.customer(name="Iryna Moroz").id
    token = csrf_token(client, f"/customers/{customer_id}")
    response = client.post("/sales/new", data={"csrf_token": token, "customer_id": str(customer_id)})
    sale_id = int(response.headers["Location"].rsplit("/", 1)[1])
    add(client, sale_id, "CASE-1")
    client.post(f"/sales/{sale_id}/pay", data={**pay_form(client, sale_id), "pay_1": "350"})
    profile = client.get(f"/customers/{customer_id}").get_data(as_text=True)
    with app.app_context():
        sale = db.session.get(Sale, sale_id)
        assert sale.customer_id == customer_id
        assert sale.number in profile
    assert client.post("/sales/new", data={"csrf_token": token, "customer_id": "99999"}).status_code == 404


@pytest.mark.parametrize("customer_id", ["²", "①", "٣", "１２", "-1", "1e3", "1_0", str(2**31)])
def test_a_customer_id_other_than_ascii_digits_names_no_customer(app, client, desk, customer_id):
    with app_session(app):
        factories.customer()  # id 1 to 3 exist, so "٣" or "1_0" read by int() would find someone
        factories.customer()
        factories.customer()
    token = csrf_token(client, "/sales")
    assert client.post("/sales/new", data={"csrf_token": token, "customer_id": customer_id}).status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count(Sale.id))) == 0
