"""The manager's Messages pages: outbox with "try again", settings, templates with preview."""

import time

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.notifications.models import MessageTemplate, NotificationSettings, OutboxMessage
from tests import factories
from tests.conftest import csrf_token
from tests.helpers import FormPage, app_session

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


def _messages(app) -> dict[str, int]:
    with app_session(app) as session:
        customer = factories.customer(name="Outbox Customer")
        rows = {status: OutboxMessage(event="welcome", kind="service", customer_id=customer.id, channel="email",
                                      address="c@example.com", status=status, attempts=6 if status == "failed" else 1,
                                      subject=f"subject {status}", body_text="b",
                                      last_error="550 no such user" if status == "failed" else "")
                for status in ("failed", "sent", "skipped", "pending")}
        session.add_all(rows.values())
        session.flush()
        return {status: row.id for status, row in rows.items()}


def test_the_manager_sees_what_needs_attention_and_sends_a_failed_message_again(app, client, auth):
    ids = _messages(app)
    auth.login("manager")
    page = client.get("/notifications/").get_data(as_text=True)
    assert "subject failed" in page and "subject pending" in page and "550 no such user" in page
    assert "subject sent" not in page and "Outbox Customer" in page
    assert "subject sent" in client.get("/notifications/?show=sent").get_data(as_text=True)
    token = csrf_token(client, "/notifications/")
    response = client.post(f"/notifications/{ids['failed']}/retry", data={"csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        row = db.session.get(OutboxMessage, ids["failed"])
        assert (row.status, row.attempts) == ("pending", 0)
    client.post(f"/notifications/{ids['sent']}/retry", data={"csrf_token": csrf_token(client, "/notifications/")})
    with app.app_context():
        assert db.session.get(OutboxMessage, ids["sent"]).status == "sent"  # never sent twice


def test_the_outbox_page_runs_a_fixed_number_of_queries(app, client, auth, count_queries):
    _messages(app)
    _messages(app)
    auth.login("manager")
    with count_queries() as few:
        client.get("/notifications/?show=all")
    _messages(app)
    with count_queries() as more:
        client.get("/notifications/?show=all")
    assert more.count == few.count


@pytest.mark.parametrize("role", ["technician", "front_desk"])
def test_only_the_manager_reaches_messages(client, auth, role):
    auth.login(role)
    for path in ("/notifications/", "/notifications/settings", "/notifications/templates",
                 "/notifications/templates/welcome/email/en"):
        assert client.get(path).status_code == 403


def test_settings_are_saved_and_bad_times_come_back_with_the_error(app, client, auth):
    auth.login("manager")
    token = csrf_token(client, "/notifications/settings")
    bad = client.post("/notifications/settings", data={"csrf_token": token, "quiet_start": "25:00",
                                                       "quiet_end": "08:30", "max_attempts": "4", "catch_up_days": "3"})
    assert bad.status_code == 422
    form = FormPage(bad.get_data(as_text=True))
    assert form.values["quiet_start"] == "25:00" and form.errors["quiet_start"]
    good = client.post("/notifications/settings", data={"csrf_token": token, "quiet_start": "22:00",
                                                        "quiet_end": "08:30", "max_attempts": "4", "catch_up_days": "3",
                                                        "notify_statuses": ["awaiting_parts", "cancelled"]})
    assert good.status_code == 302
    with app.app_context():
        row = db.session.get(NotificationSettings, 1)
        assert (row.quiet_start_minute, row.quiet_end_minute, row.max_attempts, row.catch_up_days) == (1320, 510, 4, 3)
        assert row.notify_statuses == "awaiting_parts,cancelled"


def test_a_template_is_previewed_saved_and_reset(app, client, auth):
    auth.login("manager")
    path = "/notifications/templates/welcome/email/uk"
    page = client.get(path).get_data(as_text=True)
    assert "customer_name" in page and "referral_code" in page  # the variables it may use
    token = csrf_token(client, path)
    data = {"csrf_token": token, "subject": "Вітаємо, {{ customer_name }}", "body": "Баланс: {{ points_balance }}"}
    preview = client.post(path, data={**data, "preview": "Preview"})
    assert preview.status_code == 200 and "Вітаємо, Olena Kovalenko" in preview.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(MessageTemplate)) is None  # a preview saves nothing
    assert client.post(path, data={**data, "submit": "Save"}).status_code == 302
    with app.app_context():
        saved = db.session.scalar(select(MessageTemplate))
        assert (saved.event, saved.channel, saved.language, saved.body) == ("welcome", "email", "uk",
                                                                            "Баланс: {{ points_balance }}")
    client.post(path + "/reset", data={"csrf_token": token})
    with app.app_context():
        assert db.session.scalar(select(MessageTemplate)) is None


def test_a_malicious_or_broken_template_is_refused_next_to_the_field(app, client, auth):
    auth.login("manager")
    path = "/notifications/templates/birthday/sms/en"
    token = csrf_token(client, path)
    hostile = "{{ ''.__class__.__mro__[1].__subclasses__() }}"
    response = client.post(path, data={"csrf_token": token, "subject": "x", "body": hostile, "submit": "Save"})
    assert response.status_code == 422
    form = FormPage(response.get_data(as_text=True))
    assert form.values["body"] == hostile and "cannot be used" in " ".join(form.errors["body"])
    unknown = client.post(path, data={"csrf_token": token, "subject": "x", "body": "{{ nope }}", "submit": "Save"})
    assert unknown.status_code == 422 and "nope" in unknown.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(MessageTemplate)) is None


def test_unknown_template_addresses_are_not_found(client, auth):
    auth.login("manager")
    for path in ("/notifications/templates/nope/email/en", "/notifications/templates/welcome/fax/en",
                 "/notifications/templates/welcome/email/xx"):
        assert client.get(path).status_code == 404


def test_the_desk_records_how_and_in_which_language_a_customer_hears_from_the_shop(app, client, auth):
    from crm.customers.models import Customer

    auth.login("front_desk")
    token = csrf_token(client, "/customers/new")
    response = client.post("/customers/new", data={"csrf_token": token, "phone": "+380671112233", "name": "Iryna",
                                                   "service_consent": "y", "preferred_channel": "sms",
                                                   "language": "uk"})
    assert response.status_code == 302
    with app.app_context():
        customer = db.session.scalar(select(Customer).where(Customer.phone == "+380671112233"))
        assert (customer.preferred_channel, customer.language) == ("sms", "uk")
    bad = client.post("/customers/new", data={"csrf_token": token, "phone": "+380671112234", "name": "Petro",
                                              "preferred_channel": "pigeon", "language": "klingon"})
    assert bad.status_code in (200, 422)
    form = FormPage(bad.get_data(as_text=True))
    assert form.errors.get("preferred_channel") and form.errors.get("language") and form.values["name"] == "Petro"


def test_the_customer_page_lists_the_customers_messages_with_their_state(app, client, auth):
    ids = _messages(app)
    auth.login("front_desk")
    with app.app_context():
        customer_id = db.session.get(OutboxMessage, ids["failed"]).customer_id
    page = client.get(f"/customers/{customer_id}/messages").get_data(as_text=True)
    assert 'id="customer-messages"' in page and "Failed" in page and "550 no such user" in page


def test_a_template_too_costly_on_real_data_is_refused_next_to_the_field_with_the_reason(app, client, auth):
    auth.login("manager")
    path = "/notifications/templates/picked_up/email/en"
    token = csrf_token(client, path)
    costly = "{% for i in range(points_balance) %}{{ customer_name }}{% endfor %}"  # 340 rounds on the preview
    response = client.post(path, data={"csrf_token": token, "subject": "x", "body": costly, "submit": "Save"})
    assert response.status_code == 422
    form = FormPage(response.get_data(as_text=True))
    error = " ".join(form.errors["body"])
    assert form.values["body"] == costly
    assert "longest values" in error and "range() may count at most 1000 numbers" in error
    with app.app_context():
        assert db.session.scalar(select(MessageTemplate)) is None


def test_order_intake_stays_fast_with_a_hostile_stored_template(app, client, auth, monkeypatch):
    """Saved before templates were bounded: four loops over the customer's name, 200 million rounds for a
    120-character name. Intake must not wait for it: the message falls back to the default wording."""
    from crm.customers.models import Customer
    from tests.notifications.test_render import HOSTILE_STORED_TEMPLATE

    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    with app_session(app) as session:
        session.add(MessageTemplate(event="order_received", channel="email", language="en", subject="Received",
                                    body=HOSTILE_STORED_TEMPLATE))
        customer_id = factories.customer(name="Ш" * 120, email="long@example.com").id
    auth.login("front_desk")
    token = csrf_token(client, "/customers")
    started = time.monotonic()
    response = client.post(f"/orders/new?customer_id={customer_id}", data={
        "csrf_token": token, "device_type": "phone", "brand": "Samsung", "model": "Galaxy S21", "problem": "Broken",
        "warranty_days": "30", "priority": "0", "technician_id": ""})
    elapsed = time.monotonic() - started
    assert response.status_code == 302 and elapsed < 1.0
    with app.app_context():
        [message] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.event == "order_received"))
        assert message.customer_id == customer_id and db.session.get(Customer, customer_id)
        assert "we have received your Phone Samsung Galaxy S21" in message.body_text  # the default wording
