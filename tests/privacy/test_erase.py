"""Erasing a customer: refused while a repair or a bill is open; afterwards none of their personal values is in
any text column of any table, every money and points total is unchanged (the balance forfeited by one entry), their
links stop working, the phone can be registered again, and a second erase does nothing."""

from datetime import timedelta

import pytest
from sqlalchemy import String, Text, func, select

from crm.audit import AuditEntry
from crm.auth.models import Role
from crm.customers import service as customer_service
from crm.customers.contact import unsubscribe_token
from crm.customers.models import Customer
from crm.database import utcnow
from crm.extensions import db
from crm.loyalty.models import Account, LedgerEntry
from crm.orders import queries as order_queries
from crm.orders.models import RepairOrder
from crm.privacy import erase
from crm.reports import loyalty as report
from crm.sales import checkout
from crm.sales.models import Payment, Refund, Sale
from crm.shop_time import shop_tz
from tests import factories
from tests.conftest import csrf_token
from tests.factories import sales as shop
from tests.privacy.rich import personal_values, rich_customer

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")
NAME, PHONE, EMAIL = "Maria Erasova", "+380671130001", "maria.erasova@example.com"


def _erase(session, customer):
    manager = shop.staff_member(session, Role.MANAGER)
    return erase.erase(session, customer, placeholder_name=f"Erased customer {customer.id}", actor=manager,
                       now=utcnow())


def _text_columns():
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, String | Text) or isinstance(getattr(column.type, "impl", None), String):
                yield table, column


def _found(session, value: str) -> list[str]:
    hits = []
    for table, column in _text_columns():
        if session.scalar(select(func.count()).select_from(table).where(column.contains(value, autoescape=True))):
            hits.append(f"{table.name}.{column.name}")
    return hits


def _totals(session, end) -> dict:
    """Money totals and the Loyalty report's figures for the 30 days up to ``end`` (before the erase)."""
    figures = report.figures(session, end - timedelta(days=30), end, active_days=90)
    return {
        "sales": session.scalar(select(func.sum(Sale.total_minor))),
        "payments": session.scalar(select(func.sum(Payment.amount_minor))),
        "refunds": session.scalar(select(func.sum(Refund.amount_minor))),
        "sales_count": session.scalar(select(func.count()).select_from(Sale)),
        "figures": figures,
    }


def _finished(session, customer):
    for order in session.scalars(select(RepairOrder).where(RepairOrder.customer_id == customer.id)):
        if order.status == "ready":
            order.status = "picked_up"
    session.flush()


def test_a_rich_customer_leaves_no_personal_value_anywhere(session):
    person = rich_customer(session, NAME, PHONE, EMAIL)
    other = rich_customer(session, "Petro Keepenko", "+380671130002", "petro@example.com")
    _finished(session, person)
    values = personal_values(NAME, PHONE, EMAIL)
    assert all(_found(session, value) for value in values), "each value must be stored before the erase"
    result = _erase(session, person)
    assert not result.already
    left = {value: _found(session, value) for value in values}
    assert {value: hits for value, hits in left.items() if hits} == {}
    for fragment in (NAME, "Erasova", PHONE[-7:], EMAIL, "SN-130001"):  # nor in the search indexes
        assert customer_service.search_customers(session, fragment)[0] == [], fragment
        orders = order_queries.list_orders(session, order_queries.OrderFilters(text=fragment), tz=shop_tz())
        assert orders[0] == [], fragment
    assert _found(session, "Petro Keepenko") and _found(session, "petro@example.com")
    assert other.name == "Petro Keepenko"


def test_money_and_points_records_stay_and_the_balance_is_forfeited(session):
    person = rich_customer(session, NAME, PHONE, EMAIL)
    rich_customer(session, "Petro Keepenko", "+380671130002", "petro@example.com")
    _finished(session, person)
    end = utcnow()
    before = _totals(session, end)
    assert before["figures"] != report.figures(session, end, end + timedelta(days=1), active_days=90)
    balance = session.scalar(select(Account.balance).where(Account.customer_id == person.id))
    entries = session.scalar(select(func.count()).select_from(LedgerEntry))
    assert balance > 0
    result = _erase(session, person)
    assert result.points_forfeited == balance
    assert _totals(session, end) == before
    assert session.scalar(select(func.count()).select_from(LedgerEntry)) == entries + 1
    for account in session.scalars(select(Account)):
        mine = LedgerEntry.customer_id == account.customer_id
        assert account.balance == session.scalar(select(func.sum(LedgerEntry.points)).where(mine))
    assert session.scalar(select(Account.balance).where(Account.customer_id == person.id)) == 0
    assert session.scalar(select(func.count()).select_from(Sale).where(Sale.customer_id == person.id)) == 1


def test_erase_twice_does_nothing_more(session):
    person = rich_customer(session, NAME, PHONE, EMAIL)
    _finished(session, person)
    _erase(session, person)
    entries = session.scalar(select(func.count()).select_from(LedgerEntry))
    assert _erase(session, person).already
    assert session.scalar(select(func.count()).select_from(LedgerEntry)) == entries
    audit = session.scalars(select(AuditEntry).where(AuditEntry.subject == f"customer:{person.id}",
                                                     AuditEntry.area == "privacy")).all()
    assert [entry.field for entry in audit] == ["personal data erased"]


def test_the_phone_can_be_registered_again(session):
    person = factories.customer(name=NAME, phone=PHONE)
    _erase(session, person)
    again = customer_service.create_customer(session, customer_service.CustomerData(name="New Maria", phone=PHONE),
                                             region="UA")
    assert again.id != person.id and again.phone == PHONE


def test_refused_while_a_repair_is_open(session):
    person = factories.customer(name=NAME, phone=PHONE)
    factories.order(person)
    with pytest.raises(erase.EraseError) as refused:
        _erase(session, person)
    assert "still open" in str(refused.value.message)
    assert session.get(Customer, person.id).name == NAME


def test_refused_while_a_bill_is_unpaid(session):
    person = factories.customer(name=NAME, phone=PHONE)
    desk = shop.staff_member(session, Role.FRONT_DESK)
    checkout.open_sale(session, actor=desk, customer=person)
    with pytest.raises(erase.EraseError) as refused:
        _erase(session, person)
    assert "unpaid bill" in str(refused.value.message)


def test_the_customers_links_stop_working(app, client):
    with app.app_context():
        person = rich_customer(db.session, NAME, PHONE, EMAIL)
        _finished(db.session, person)
        order = db.session.scalar(select(RepairOrder).where(RepairOrder.customer_id == person.id))
        tracking, unsubscribe = order.tracking_token, unsubscribe_token(person.id)
        db.session.commit()
        assert client.get(f"/t/{tracking}").status_code == 200
        assert client.get(f"/u/{unsubscribe}").status_code == 200
        _erase(db.session, db.session.get(Customer, person.id))
        db.session.commit()
        db.session.remove()
    assert client.get(f"/t/{tracking}").status_code == 404
    assert client.get(f"/u/{unsubscribe}").status_code == 404


def test_the_manager_erases_after_typing_the_phone(app, client, auth):
    with app.app_context():
        person_id = factories.customer(name=NAME, phone=PHONE).id
        db.session.commit()
        db.session.remove()
    auth.login(Role.MANAGER)
    assert "Erase this customer" in client.get(f"/customers/{person_id}").get_data(as_text=True)
    page = f"/customers/{person_id}/erase"
    token = csrf_token(client, page)
    wrong = client.post(page, data={"csrf_token": token, "confirm": "067 999 9999"})
    assert wrong.status_code == 422
    assert "This is not the customer&#39;s phone number." in wrong.get_data(as_text=True)
    assert 'value="067 999 9999"' in wrong.get_data(as_text=True)
    done = client.post(page, data={"csrf_token": token, "confirm": "067 113 0001"})
    assert done.status_code == 302
    profile = client.get(f"/customers/{person_id}").get_data(as_text=True)
    assert f"Erased customer {person_id}" in profile and NAME not in profile
    assert "personal data was erased" in client.get(page).get_data(as_text=True)


def test_an_open_repair_is_explained_next_to_the_field(app, client, auth):
    with app.app_context():
        person = factories.customer(name=NAME, phone=PHONE)
        factories.order(person)
        db.session.commit()
        person_id = person.id
        db.session.remove()
    auth.login(Role.MANAGER)
    page = f"/customers/{person_id}/erase"
    assert "still open" in client.get(page).get_data(as_text=True)
    refused = client.post(page, data={"csrf_token": csrf_token(client, page), "confirm": PHONE})
    assert refused.status_code == 422 and "still open" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Customer, person_id).name == NAME
        db.session.remove()


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.TECHNICIAN])
def test_only_a_manager_may_erase(app, client, auth, role):
    with app.app_context():
        person_id = factories.customer(name=NAME, phone=PHONE).id
        db.session.commit()
        db.session.remove()
    auth.login(role)
    assert client.get(f"/customers/{person_id}/erase").status_code == 403
