"""The statement budgets of the busiest staff pages (issue 16), counted with a before_cursor_execute listener
(BEGIN and savepoints not counted): the customer's page (each tab) and the cart at most 8, the checkout's
payment with points at most 25. Each is measured for a customer with a long history of every kind, so a
section that runs a statement per row, or one more statement per section, shows here."""

import re

import pytest
from sqlalchemy import event

from crm.auth.models import Role
from crm.catalogue.models import CatalogueItem
from crm.customers import consent
from crm.database import utcnow
from crm.extensions import db
from crm.loyalty import accounts, coupons, ledger
from crm.loyalty.models import CouponTemplate
from crm.loyalty.program import update_program
from crm.orders import service as order_service
from crm.sales import checkout, pricing
from crm.sales.models import Sale
from tests import factories
from tests.conftest import csrf_token
from tests.helpers import FormPage, app_session
from tests.sales.test_views import add, add_item

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")

PAGE_BUDGET = 8
CHECKOUT_BUDGET = 25


def _rich_member(session, n: int) -> int:
    """A member with ``n`` of everything the customer's page lists: repairs with lines, paid sales, points
    entries by a staff member, personal coupons, customers they brought in, consent changes and messages."""
    manager = factories.staff(role=Role.MANAGER)
    customer = factories.customer(marketing_consent=True)
    account = accounts.enrol(session, customer, actor=manager)
    template = CouponTemplate(name=f"10% off for {customer.id}", kind="percent", value=1000, categories="accessory",
                              min_bill_minor=0, validity_days=30, active=True)
    session.add(template)
    session.flush()
    item = session.get(CatalogueItem, add_item(f"BUDGET-{customer.id}", "Cable", 10_000, on_hand=n))
    for i in range(n):
        order = factories.order(customer, created_by=manager)
        order_service.add_line(session, order, kind="labour", description=f"Work {i}", quantity=1,
                               unit_price_minor=50_000, actor=manager)
        ledger.credit(session, account, "adjust", 10, key=f"budget:{customer.id}:{i}", reason=f"Goodwill {i}",
                      actor=manager, expiry_months=12)
        coupons.issue_personal(session, template, customer.id, issued_for=f"budget:{i}", actor=manager)
        friend = factories.customer()
        accounts.set_referrer(session, friend, account.referral_code, region="UA", actor=manager)
        consent.set_consents(session, customer, {"marketing": i % 2 == 1}, source=consent.DESK, actor=manager)
        sale = checkout.open_sale(session, actor=manager, customer=customer)
        checkout.add_item(session, sale, item, 1)
        checkout.checkout(session, sale.id, key=f"budget-{sale.id}", tenders=[pricing.Tender("card", 10_000)],
                          expected_total_minor=10_000, actor=manager, payment_methods=["card"], number_prefix="S-")
    return customer.id


@pytest.fixture
def customers(app):
    with app_session(app) as session:
        update_program(session, {"welcome_bonus": 0}, actor=None)
        return _rich_member(session, 1), _rich_member(session, 6), factories.customer().id


def _statements(client, count_queries, path: str) -> int:
    client.get(path)  # the first request of a test client warms what every later one finds ready
    with count_queries() as counter:
        response = client.get(path)
    assert response.status_code == 200, path
    return counter.count


@pytest.mark.parametrize("role", [Role.MANAGER, Role.FRONT_DESK, Role.TECHNICIAN])
@pytest.mark.parametrize("tab", ["", "/points", "/messages"])
def test_every_tab_of_the_customer_page_keeps_its_budget_whatever_the_history(app, client, auth, count_queries,
                                                                              customers, role, tab):
    auth.login(role)
    short, long, stranger = customers
    counts = [_statements(client, count_queries, f"/customers/{customer_id}{tab}") for customer_id in customers]
    assert counts[0] == counts[1], "a statement per row"
    assert max(counts) <= PAGE_BUDGET, counts
    page = client.get(f"/customers/{long}{tab}").get_data(as_text=True)
    if tab == "/points":  # the long history is all there
        assert page.count("Goodwill ") == 6 and len(re.findall(r"<li><code>", page)) == 6


@pytest.fixture
def member_cart(app, client, auth):
    """A cart for a member with points, personal coupons and a history, holding two items."""
    auth.login(Role.FRONT_DESK)
    with app_session(app) as session:
        update_program(session, {"welcome_bonus": 0}, actor=None)
        customer_id = _rich_member(session, 4)
        add_item("BUDGET-A", "Case", 40_000, on_hand=5)
        add_item("BUDGET-B", "Glass", 20_000, on_hand=5)
    token = csrf_token(client, "/sales")
    response = client.post("/sales/new", data={"csrf_token": token, "customer_id": str(customer_id)})
    sale_id = int(re.search(r"/sales/(\d+)$", response.headers["Location"]).group(1))
    assert add(client, sale_id, "BUDGET-A").status_code == 302
    assert add(client, sale_id, "BUDGET-B").status_code == 302
    return sale_id


def test_the_cart_page_with_points_keeps_its_budget(client, count_queries, member_cart):
    assert _statements(client, count_queries, f"/sales/{member_cart}?use_max=y") <= PAGE_BUDGET


def test_the_payment_with_points_keeps_its_budget(app, client, count_queries, member_cart):
    values = FormPage(client.get(f"/sales/{member_cart}?use_max=y").get_data(as_text=True)).values
    assert int(values["loyalty_points"]) > 0
    total = int(values["expected_total"])
    form = {"csrf_token": values["csrf_token"], "key": values["key"], "expected_total": values["expected_total"],
            "loyalty_points": values["loyalty_points"], "loyalty_coupon": "", "pay_0": f"{total / 100:.2f}"}
    savepoints = []

    def note_savepoint(_conn, _cursor, statement, *_):
        if statement.startswith(("SAVEPOINT", "RELEASE")):
            savepoints.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note_savepoint)
    try:
        with count_queries() as counter:
            response = client.post(f"/sales/{member_cart}/pay", data=form)
    finally:
        event.remove(engine, "before_cursor_execute", note_savepoint)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/sales/{member_cart}/paid")
    assert counter.count <= CHECKOUT_BUDGET, "\n".join(counter.statements)
    # Its ledger entries are keyed by the sale it holds locked: they are written without a savepoint each.
    assert savepoints == []
    with app.app_context():
        sale = db.session.get(Sale, member_cart)
        assert sale.points_redeemed == int(values["loyalty_points"]) and sale.points_earned > 0
        assert sale.paid_at <= utcnow()
