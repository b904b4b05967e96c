"""The whole customer list as CSV: one row per customer with consent flags and loyalty figures, streamed, BOM,
formula-safe, a bounded number of statements, manager only, written to the change log."""

import csv
import io

import pytest
from sqlalchemy import select

from crm.audit import AuditEntry
from crm.auth.models import Role
from crm.extensions import db
from crm.loyalty import accounts
from crm.privacy import customer_list
from crm.sales import checkout
from tests import factories
from tests.conftest import csrf_token
from tests.factories import sales as shop

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


def _shop(count: int) -> dict:
    desk = shop.staff_member(db.session, Role.FRONT_DESK)
    member = factories.customer(name="Member Olena", phone="+380671120001", email="olena@example.com",
                                marketing_consent=True)
    accounts.enrol(db.session, member, actor=desk)
    item = shop.new_item(db.session, price_minor=25_000, on_hand=10)
    sale = checkout.open_sale(db.session, actor=desk, customer=member)
    checkout.add_item(db.session, sale, item, 2)
    shop.pay(db.session, sale.id, actor=desk)
    plain = factories.customer(name="=cmd|' /C calc'!A0", phone="+380671120002")
    for n in range(count):
        factories.customer(phone=f"+38067113{n:04d}")
    db.session.commit()
    return {"member": member.id, "plain": plain.id}


def _download(client, auth):
    auth.login(Role.MANAGER)
    token = csrf_token(client, "/customers")
    return client.post("/customers/export.csv", data={"csrf_token": token})


def _rows(response) -> list[list[str]]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def test_one_row_per_customer_with_consents_and_loyalty_figures(app, client, auth):
    with app.app_context():
        ids = _shop(3)
        db.session.remove()
    response = _download(client, auth)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.is_streamed
    header, *rows = _rows(response)
    assert header[:3] == ["Customer no.", "Name", "Phone"]
    assert len(rows) == 5
    by_id = {int(row[0]): dict(zip(customer_list.COLUMNS, row, strict=True)) for row in rows}
    member = by_id[ids["member"]]
    assert (member["name"], member["email"], member["marketing_consent"], member["member"]) == (
        "Member Olena", "olena@example.com", "yes", "yes")
    assert (member["paid_sales"], member["paid_minor"], member["refunded_minor"]) == ("1", "50000", "0")
    assert member["tier"] and int(member["points_balance"]) >= 0 and member["last_paid_at"]
    plain = by_id[ids["plain"]]
    assert plain["name"].startswith("'=") and plain["member"] == "no" and plain["paid_sales"] == "0"


def test_the_statements_do_not_grow_with_the_customers(app, client, auth, count_queries):
    with app.app_context():
        _shop(2)
        db.session.remove()
    auth.login(Role.MANAGER)
    token = csrf_token(client, "/customers")
    with count_queries() as few:
        assert len(_rows(client.post("/customers/export.csv", data={"csrf_token": token}))) == 5
    with app.app_context():
        for n in range(30):
            factories.customer(phone=f"+38067114{n:04d}")
        db.session.commit()
        db.session.remove()
    with count_queries() as many:
        assert len(_rows(client.post("/customers/export.csv", data={"csrf_token": token}))) == 35
    assert many.count == few.count


def test_the_download_is_logged(app, client, auth):
    _download(client, auth).get_data()
    with app.app_context():
        assert [e.field for e in db.session.scalars(select(AuditEntry).where(AuditEntry.area == "privacy"))] == [
            "customer list exported"]
        db.session.remove()


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.TECHNICIAN])
def test_only_a_manager_downloads_the_list(client, auth, role):
    auth.login(role)
    page = client.get("/customers").get_data(as_text=True)
    assert "Download the customer list" not in page
    token = csrf_token(client, "/customers")
    assert client.post("/customers/export.csv", data={"csrf_token": token}).status_code == 403
