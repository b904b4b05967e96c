"""The consent history: every change of a consent is a row (what, given or withdrawn, how, by whom, when), written
in the transaction of the change, by every path that changes a flag: creation, the desk's form, the unsubscribe
link, the Telegram chat's /stop. The customer page shows it, newest first."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from crm.customers import consent, contact, service, telegram
from crm.customers.models import ConsentChange, Customer
from crm.customers.service import CustomerData
from crm.extensions import db
from crm.notifications.channels import command_from_update
from crm.notifications.models import OutboxMessage
from crm.notifications.outbox import UNSUBSCRIBED, enqueue
from tests import factories
from tests.conftest import csrf_token
from tests.helpers import app_session

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
SECRET = "hook-secret"


def history(session, customer_id):
    return [(r["consent"], r["granted"], r["source"], r["changed_by_id"])
            for r in consent.consent_history(session, customer_id)]


def data_of(customer: Customer, **changes) -> CustomerData:
    fields = dict(name=customer.name, phone=customer.phone, email=customer.email, birthday=customer.birthday,
                  service_consent=customer.service_consent, marketing_consent=customer.marketing_consent,
                  notes=customer.notes, preferred_channel=customer.preferred_channel, language=customer.language)
    fields.update(changes)
    return CustomerData(**fields)


def test_creation_records_the_consents_given_and_not_given_with_the_desk_member(session):
    desk = factories.staff(role="front_desk")
    customer = service.create_customer(session, CustomerData(name="Ana", phone="067 123 45 67",
                                                             marketing_consent=True),
                                       region="UA", actor=desk, now=T0)
    rows = consent.consent_history(session, customer.id)
    assert {(r["consent"], r["granted"], r["source"], r["changed_by_id"], r["changed_by"]) for r in rows} == {
        ("service", True, "desk", desk.id, desk.full_name), ("marketing", True, "desk", desk.id, desk.full_name)}
    assert all(r["changed_at"] == T0 for r in rows)
    quiet = service.create_customer(session, CustomerData(name="Bo", phone="067 123 45 68", service_consent=False),
                                    region="UA", now=T0)
    assert sorted(history(session, quiet.id)) == [("marketing", False, "desk", None), ("service", False, "desk", None)]


def test_a_desk_edit_records_only_the_consents_that_change_newest_first(session):
    desk = factories.staff(role="front_desk")
    customer = service.create_customer(session, CustomerData(name="Ana", phone="067 123 45 67"), region="UA", now=T0)
    service.update_customer(session, customer, data_of(customer, name="Ana K."), region="UA", actor=desk,
                            now=T0 + timedelta(days=1))
    assert len(history(session, customer.id)) == 2  # nothing about consent changed
    service.update_customer(session, customer, data_of(customer, marketing_consent=True), region="UA", actor=desk,
                            now=T0 + timedelta(days=2))
    service.update_customer(session, customer, data_of(customer, service_consent=False, marketing_consent=False),
                            region="UA", actor=desk, now=T0 + timedelta(days=3))
    rows = consent.consent_history(session, customer.id)
    assert [(r["consent"], r["granted"], r["changed_by_id"]) for r in rows[:3]] == [
        ("marketing", False, desk.id), ("service", False, desk.id), ("marketing", True, desk.id)]
    assert [r["changed_at"] for r in rows[:3]] == [T0 + timedelta(days=3)] * 2 + [T0 + timedelta(days=2)]
    assert customer.marketing_consent_at == T0 + timedelta(days=3)


def test_a_refused_edit_writes_no_history(session):
    customer = service.create_customer(session, CustomerData(name="Ana", phone="067 123 45 67"), region="UA")
    service.create_customer(session, CustomerData(name="Bo", phone="067 123 45 68"), region="UA")
    before = session.scalar(select(func.count()).select_from(ConsentChange))
    with pytest.raises(service.DuplicatePhone):
        service.update_customer(session, customer, data_of(customer, phone="067 123 45 68", marketing_consent=True),
                                region="UA")
    assert session.scalar(select(func.count()).select_from(ConsentChange)) == before


def test_the_unsubscribe_link_records_a_withdrawal_by_the_customer_once(app, client):
    with app_session(app):
        customer = factories.customer(marketing_consent=True)
        customer_id, url = customer.id, contact.unsubscribe_url(customer.id)
    path = url[url.index("/u/"):]
    token = csrf_token(client, path)
    assert client.post(path, data={"csrf_token": token}).status_code == 200
    assert client.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200  # again: no new row
    with app.app_context():
        rows = history(db.session, customer_id)
        assert rows[0] == ("marketing", False, "unsubscribe_link", None)
        assert [r for r in rows if r[2] == "unsubscribe_link"] == [rows[0]]
        assert db.session.get(Customer, customer_id).marketing_consent is False


@pytest.mark.parametrize(("text", "expected"), [("/stop", ("5", "stop", "")), (" /stop ", ("5", "stop", ""))])
def test_stop_is_a_telegram_command(text, expected):
    assert command_from_update({"message": {"chat": {"id": 5, "type": "private"}, "text": text}}) == expected


def test_stop_from_the_linked_telegram_chat_withdraws_marketing_consent(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "TELEGRAM_WEBHOOK_SECRET", SECRET)
    monkeypatch.setitem(app.config, "TELEGRAM_BOT_TOKEN", "42:bot-token")  # the greeting waits in the outbox
    with app_session(app) as session:
        customer = factories.customer(marketing_consent=True)
        customer.telegram_chat_id = "777"
        other = factories.customer(marketing_consent=True)
        customer_id, other_id = customer.id, other.id
        enqueue(session, contact.recipient(customer), "birthday", {**contact.message_variables(customer),
                                                                   "bonus_points": 5}, dedupe_key="bd")
    for chat in (777, 778):  # 778 is linked to no one: nothing changes
        response = client.post("/telegram/webhook", headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
                               json={"update_id": chat, "message": {"chat": {"id": chat, "type": "private"},
                                                                    "text": "/stop"}})
        assert response.status_code == 200
    with app.app_context():
        assert history(db.session, customer_id)[0] == ("marketing", False, "telegram", None)
        assert db.session.get(Customer, customer_id).marketing_consent is False
        assert db.session.get(Customer, customer_id).service_consent is True
        assert db.session.get(Customer, other_id).marketing_consent is True
        assert len(history(db.session, other_id)) == 2
        greeting = db.session.scalar(select(OutboxMessage).where(OutboxMessage.customer_id == customer_id,
                                                                 OutboxMessage.event == "birthday"))
        assert (greeting.status, greeting.last_error) == ("skipped", UNSUBSCRIBED)


def test_stop_twice_records_one_change_and_answers_once(app, session, monkeypatch):
    monkeypatch.setitem(app.config, "TELEGRAM_BOT_TOKEN", "42:bot-token")
    customer = factories.customer(marketing_consent=True)
    customer.telegram_chat_id = "42"
    assert telegram.stop_marketing(session, "42") == telegram.STOPPED
    assert telegram.stop_marketing(session, "42") == telegram.IGNORED
    assert [r for r in history(session, customer.id) if r[2] == "telegram"] == [("marketing", False, "telegram", None)]
    answers = session.scalars(select(OutboxMessage).where(OutboxMessage.event == "telegram_stopped")).all()
    assert [(m.channel, m.address, m.kind, m.status) for m in answers] == [("telegram", "42", "service", "pending")]


def test_the_customer_page_shows_the_history_newest_first(app, client, auth):
    with app_session(app) as session:
        customer = factories.customer(marketing_consent=True)
        contact.unsubscribe(session, customer)
        customer_id = customer.id
    auth.login("front_desk")
    html = client.get(f"/customers/{customer_id}/messages").get_data(as_text=True)
    table = html[html.index('id="consent-history"'):]
    table = table[:table.index("</table>")]
    assert table.index("Unsubscribe link") < table.index("At the desk")
    assert "Withdrawn" in table and "Given" in table and "Marketing messages" in table


def test_the_desk_edit_form_records_who_changed_the_consent(app, client, auth):
    with app_session(app):
        customer = factories.customer()
        customer_id = customer.id
    desk_id = auth.login("front_desk")
    token = csrf_token(client, f"/customers/{customer_id}/edit")
    with app.app_context():
        c = db.session.get(Customer, customer_id)
        form = {"csrf_token": token, "name": c.name, "phone": c.phone, "service_consent": "y",
                "marketing_consent": "y", "preferred_channel": "auto"}
    assert client.post(f"/customers/{customer_id}/edit", data=form).status_code == 302
    with app.app_context():
        assert history(db.session, customer_id)[0] == ("marketing", True, "desk", desk_id)


def test_a_customer_registered_through_the_api_has_the_api_as_the_source(app, client):
    from crm.api import tokens
    from crm.database import utcnow

    with app_session(app) as session:
        _, secret = tokens.create_token(session, name="Website", role="front_desk", expires_at=None, actor=None,
                                        now=utcnow())
    response = client.post("/api/v1/customers", json={"name": "Iryna API", "phone": "067 115 0001",
                                                      "marketing_consent": True},
                           headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 201, response.get_json()
    with app.app_context():
        assert sorted(history(db.session, response.get_json()["id"])) == [("marketing", True, "api", None),
                                                                          ("service", True, "api", None)]


def test_erasing_a_customer_withdraws_both_consents_in_the_history(session):
    from crm.database import utcnow
    from crm.privacy.erase import erase

    manager = factories.staff(role="manager")
    customer = factories.customer(marketing_consent=True)
    erase(session, customer, placeholder_name="Erased customer", actor=manager, now=utcnow())
    rows = history(session, customer.id)
    assert sorted(rows[:2]) == [("marketing", False, "erasure", manager.id), ("service", False, "erasure", manager.id)]
    assert (customer.service_consent, customer.marketing_consent) == (False, False)
    erase(session, customer, placeholder_name="Erased customer", actor=manager, now=utcnow())  # again: nothing
    assert len(history(session, customer.id)) == 4
