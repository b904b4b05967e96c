"""One customer's export: every table that holds a customer's data contributes, nothing of another customer is in
it, the ZIP holds the JSON document and one CSV per section, and the export is written to the change log."""

import csv
import io
import json
import zipfile

import pytest
from sqlalchemy import select

from crm.audit import AuditEntry
from crm.auth.models import Role
from crm.database import utcnow
from crm.extensions import db
from crm.privacy import export
from tests import factories
from tests.conftest import csrf_token
from tests.privacy.rich import IMEI, rich_customer

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


def customer_tables() -> set[str]:
    """Every table with a foreign-key path to a customer row (rows that belong to some customer)."""
    found, grew = {"customers_customer"}, True
    while grew:
        grew = False
        for table in db.metadata.sorted_tables:
            if table.name not in found and any(fk.column.table.name in found for fk in table.foreign_keys):
                found.add(table.name)
                grew = True
    return found


def test_every_table_with_customer_data_is_exported_or_excluded_with_a_reason(app_ctx):
    exported = {section.model.__tablename__ for section in export.SECTIONS}
    assert customer_tables() - exported - set(export.NOT_EXPORTED) == set()
    assert set(export.NOT_EXPORTED) <= customer_tables()


def test_a_rich_customer_fills_every_section_and_nothing_of_another_customer_is_in_it(session):
    person = rich_customer(session, "Iryna Exportenko", "+380671110001", "iryna@example.com")
    other = rich_customer(session, "Other Personsky", "+380671110002", "other@example.com")
    document = export.collect(session, person.id, currency="UAH", now=utcnow())
    empty = [name for name, rows in document["sections"].items() if not rows]
    assert empty == [], f"sections with no rows: {empty}"
    assert document["sections"]["profile"][0]["name"] == "Iryna Exportenko"
    assert document["sections"]["devices"][0]["imei"] == IMEI
    text = json.dumps(document, ensure_ascii=False)
    assert "Other Personsky" not in text and "other@example.com" not in text and "+380671110002" not in text
    theirs = export.collect(session, other.id, currency="UAH", now=utcnow())
    mine = {row["id"] for row in document["sections"]["sales"]}
    assert mine and not mine & {row["id"] for row in theirs["sections"]["sales"]}
    assert all(row["customer_id"] == person.id for row in document["sections"]["points_ledger"])


def test_the_zip_holds_the_json_and_one_csv_per_section(session):
    person = rich_customer(session, "Zip Person", "+380671110003", "zip@example.com")
    document = export.collect(session, person.id, currency="UAH", now=utcnow())
    archive = zipfile.ZipFile(io.BytesIO(export.to_zip(document)))
    names = set(archive.namelist())
    assert names == {"customer.json"} | {f"{name}.csv" for name in document["sections"]}
    assert json.loads(archive.read("customer.json"))["sections"]["profile"][0]["phone"] == "+380671110003"
    ledger = archive.read("points_ledger.csv").decode("utf-8")
    assert ledger.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(ledger.lstrip("\ufeff"))))
    assert len(rows) == len(document["sections"]["points_ledger"])
    assert sum(int(row["points"]) for row in rows) == sum(r["points"] for r in document["sections"]["points_ledger"])


def test_a_formula_in_a_customer_field_is_neutralised_in_the_csv(session):
    person = factories.customer(name="=HYPERLINK(\"http://evil\")", phone="+380671110004")
    archive = zipfile.ZipFile(io.BytesIO(export.to_zip(export.collect(session, person.id, currency="UAH",
                                                                      now=utcnow()))))
    profile = archive.read("profile.csv").decode("utf-8")
    assert "'=HYPERLINK" in profile


def test_the_manager_downloads_the_export_and_it_is_logged(app, client, auth):
    with app.app_context():
        person = rich_customer(db.session, "View Person", "+380671110005", "view@example.com")
        db.session.commit()
        person_id = person.id
        db.session.remove()
    auth.login(Role.MANAGER)
    page = client.get(f"/customers/{person_id}")
    assert "Export all data of this customer (ZIP)" in page.get_data(as_text=True)
    token = csrf_token(client, f"/customers/{person_id}")
    response = client.post(f"/customers/{person_id}/export", data={"csrf_token": token})
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert f"customer-{person_id}-" in response.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert json.loads(archive.read("customer.json"))["customer_id"] == person_id
    with app.app_context():
        entries = db.session.scalars(select(AuditEntry).where(AuditEntry.subject == f"customer:{person_id}",
                                                                AuditEntry.area == "privacy")).all()
        assert [e.field for e in entries] == ["personal data exported"]
        assert "View Person" not in (entries[0].old_value + entries[0].new_value)
        db.session.remove()


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.TECHNICIAN])
def test_only_a_manager_sees_and_may_use_the_export(app, client, auth, role):
    with app.app_context():
        person_id = factories.customer(name="Not Yours", phone="+380671110006").id
        db.session.commit()
        db.session.remove()
    auth.login(role)
    page = client.get(f"/customers/{person_id}")
    assert "Export all data" not in page.get_data(as_text=True)
    token = csrf_token(client, "/customers")
    assert client.post(f"/customers/{person_id}/export", data={"csrf_token": token}).status_code == 403


def test_an_export_without_the_form_token_is_refused(app, client, auth):
    with app.app_context():
        person_id = factories.customer(phone="+380671110007").id
        db.session.commit()
        db.session.remove()
    auth.login(Role.MANAGER)
    assert client.post(f"/customers/{person_id}/export", data={}).status_code == 400
    token = csrf_token(client, f"/customers/{person_id}")
    assert client.post("/customers/999999/export", data={"csrf_token": token}).status_code == 404
