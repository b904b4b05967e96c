"""The customer's side: the one-click unsubscribe link (no login) and linking a Telegram chat."""

from datetime import UTC, datetime, timedelta

import pytest

from crm.customers import contact, telegram
from crm.customers.models import Customer
from crm.database import utcnow
from crm.extensions import db
from crm.links import public_url
from crm.notifications.models import OutboxMessage
from crm.notifications.outbox import enqueue
from tests import factories
from tests.conftest import csrf_token
from tests.helpers import app_session

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _channels(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "TELEGRAM_WEBHOOK_SECRET", "hook-secret")


def _customer_with_pending_greeting(app) -> tuple[int, str, int, int]:
    with app_session(app) as session:
        customer = factories.customer(email="o@example.com", marketing_consent=True)
        recipient = contact.recipient(customer)
        greeting = enqueue(session, recipient, "birthday", {"bonus_points": 1, "points_balance": 1}, now=NOW)
        service = enqueue(session, recipient, "welcome", {}, now=NOW)
        session.flush()
        return customer.id, recipient.unsubscribe_url, greeting.id, service.id


def _marketing_state(app, customer_id: int, greeting_id: int) -> tuple[bool, str]:
    with app.app_context():
        return (db.session.get(Customer, customer_id).marketing_consent,
                db.session.get(OutboxMessage, greeting_id).status)


def test_opening_the_unsubscribe_link_only_asks_a_mail_scanner_following_it_changes_nothing(app, client):
    customer_id, url, greeting_id, _service = _customer_with_pending_greeting(app)
    page = client.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<form" in html and 'name="csrf_token"' in html
    assert 'method="post"' in html and "You are unsubscribed" not in html
    assert client.head(url).status_code == 200
    assert _marketing_state(app, customer_id, greeting_id) == (True, "pending")


def test_the_button_on_the_page_unsubscribes_without_login_and_stops_marketing(app, client):
    customer_id, url, greeting_id, service_id = _customer_with_pending_greeting(app)
    response = client.post(url, data={"csrf_token": csrf_token(client, url)})
    assert response.status_code == 200 and "You are unsubscribed" in response.get_data(as_text=True)
    assert _marketing_state(app, customer_id, greeting_id) == (False, "skipped")
    with app.app_context():
        customer = db.session.get(Customer, customer_id)
        assert customer.marketing_consent_at is not None
        assert db.session.get(OutboxMessage, service_id).status == "pending"  # repairs still reported
        later = enqueue(db.session, contact.recipient(customer), "birthday", {}, now=NOW)
        assert later.status == "skipped"
    again = client.get(url)  # a second visit says so and offers nothing to press
    assert again.status_code == 200 and "already unsubscribed" in again.get_data(as_text=True)


def test_a_post_without_the_pages_token_or_the_one_click_body_changes_nothing(app, client):
    customer_id, url, greeting_id, _service = _customer_with_pending_greeting(app)
    for data in ({}, {"csrf_token": "forged"}, {"List-Unsubscribe": "yes"}):
        response = client.post(url, data=data)
        assert response.status_code == 400 and "<form" in response.get_data(as_text=True)
    assert _marketing_state(app, customer_id, greeting_id) == (True, "pending")


def test_mail_clients_unsubscribe_with_one_post_and_no_csrf_token(app, client):
    """RFC 8058: the provider POSTs "List-Unsubscribe=One-Click" to the List-Unsubscribe address."""
    customer_id, url, greeting_id, _service = _customer_with_pending_greeting(app)
    response = client.post(url, data="List-Unsubscribe=One-Click",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    assert _marketing_state(app, customer_id, greeting_id) == (False, "skipped")


def test_an_unsubscribe_link_expires_and_then_says_how_to_opt_out_at_the_shop(app, client):
    customer_id, _url, greeting_id, _service = _customer_with_pending_greeting(app)
    days = app.config["UNSUBSCRIBE_LINK_DAYS"]
    with app.app_context():
        old = contact.unsubscribe_url(customer_id, now=utcnow() - timedelta(days=days + 1))
        recent = contact.unsubscribe_url(customer_id, now=utcnow() - timedelta(days=days - 1))
        # a link of the first version, signed before links carried their date
        undated = public_url("/u/" + contact._serializer().dumps(customer_id))
    for link in (old, undated):
        page = client.get(link)
        html = page.get_data(as_text=True)
        assert page.status_code == 410 and "expired" in html and "<form" not in html and "desk" in html
        assert client.post(link, data="List-Unsubscribe=One-Click",
                           content_type="application/x-www-form-urlencoded").status_code == 410
    assert _marketing_state(app, customer_id, greeting_id) == (True, "pending")
    assert client.get(recent).status_code == 200


def test_a_marketing_mail_carries_the_one_click_headers_and_its_link_works(app, client, smtp_server, monkeypatch):
    from crm.notifications import dispatch as dispatcher

    for key, value in smtp_server.config().items():
        monkeypatch.setitem(app.config, key, value)
    customer_id, url, greeting_id, _service = _customer_with_pending_greeting(app)
    with app_session(app) as session:
        assert dispatcher.dispatch(session, now=NOW).sent == 2
    received = [mail.message() for mail in smtp_server.messages]
    [greeting] = [mail for mail in received if mail["Subject"].startswith("Happy birthday")]
    [other] = [mail for mail in received if not mail["Subject"].startswith("Happy birthday")]
    assert greeting["List-Unsubscribe"].strip() == f"<{url}>"  # a long one is folded onto its own line
    assert greeting["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert other["List-Unsubscribe"] is None  # service messages are not a mailing list
    response = client.post(greeting["List-Unsubscribe"].strip().strip("<>"), data="List-Unsubscribe=One-Click",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    with app.app_context():
        assert db.session.get(Customer, customer_id).marketing_consent is False


@pytest.mark.parametrize("token", ["garbage", "MQ.forged", "x" * 500, "%00", "1"])
def test_a_damaged_or_forged_link_changes_nothing(app, client, token):
    customer_id, _url, _greeting, _service = _customer_with_pending_greeting(app)
    response = client.get(f"/u/{token}")
    assert response.status_code == 404 and "not valid" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Customer, customer_id).marketing_consent is True


def test_the_webhook_refuses_without_the_secret_and_ignores_forged_codes(app, client):
    with app_session(app):
        customer = factories.customer()
        customer_id = customer.id
        old_style = f"{customer.id}-AAAAAAAAAAAAAAAAAAAAAA"  # the id-and-HMAC codes of the first version
    update = {"update_id": 6, "message": {"chat": {"id": 1, "type": "private"}, "text": f"/start {old_style}"}}
    assert client.post("/telegram/webhook", json=update).status_code == 404
    assert client.post("/telegram/webhook", json=update,
                       headers={"X-Telegram-Bot-Api-Secret-Token": "hook-secret"}).status_code == 200
    assert client.post("/telegram/webhook", data="not json", headers={"X-Telegram-Bot-Api-Secret-Token": "hook-secret"},
                       content_type="application/json").status_code == 400  # not an update: a clear 4xx
    with app.app_context():
        assert db.session.get(Customer, customer_id).telegram_chat_id is None


def test_consent_withdrawn_at_the_desk_stops_unsent_messages_of_that_kind(app):
    from crm.customers import service as customer_service

    customer_id, _url, greeting_id, service_id = _customer_with_pending_greeting(app)
    with app_session(app) as session:
        customer = session.get(Customer, customer_id)
        data = customer_service.CustomerData(name=customer.name, phone=customer.phone, email=customer.email,
                                             service_consent=True, marketing_consent=False)
        customer_service.update_customer(session, customer, data, region="UA")
    with app.app_context():
        greeting = db.session.get(OutboxMessage, greeting_id)
        assert greeting.status == "skipped" and "withdrawn" in greeting.last_error
        assert db.session.get(OutboxMessage, service_id).status == "pending"
    with app_session(app) as session:
        customer = session.get(Customer, customer_id)
        data = customer_service.CustomerData(name=customer.name, phone=customer.phone, email=customer.email,
                                             service_consent=False, marketing_consent=False)
        customer_service.update_customer(session, customer, data, region="UA")
    with app.app_context():
        assert db.session.get(OutboxMessage, service_id).status == "skipped"


def test_without_a_webhook_the_scheduler_polls_the_bot_and_links_chats(app, http_recorder, monkeypatch):
    from crm import scheduler
    from crm.notifications.models import NotificationSettings

    monkeypatch.setitem(app.config, "TELEGRAM_WEBHOOK_SECRET", "")
    monkeypatch.setitem(app.config, "TELEGRAM_BOT_TOKEN", "42:bot-token")
    monkeypatch.setitem(app.config, "TELEGRAM_API_BASE", http_recorder.url)
    with app_session(app) as session:
        customer = factories.customer()
        customer_id, code = customer.id, telegram.issue_code(session, customer.id).code
    http_recorder.respond(200, {"ok": True, "result": [
        {"update_id": 900, "message": {"chat": {"id": 31337, "type": "private"}, "text": f"/start {code}"}},
        {"update_id": 901, "message": {"chat": {"id": 5, "type": "private"}, "text": "hello"}},
        {"update_id": 902, "message": {"chat": {"id": 6, "type": "private"}, "text": "/start 1-forged"}},
    ]})
    http_recorder.respond(200, {"ok": True, "result": []})
    assert scheduler.run_job(app, "telegram-updates") == "3 updates, 1 chats linked, 0 awaiting confirmation"
    assert scheduler.run_job(app, "telegram-updates") == "0 updates, 0 chats linked, 0 awaiting confirmation"
    first, second = http_recorder.requests
    assert first.path == "/bot42:bot-token/getUpdates" and first.json["offset"] == 0
    assert second.json["offset"] == 903  # the updates read are confirmed, never read twice
    with app.app_context():
        assert db.session.get(Customer, customer_id).telegram_chat_id == "31337"
        assert db.session.get(NotificationSettings, 1).telegram_update_offset == 903
    http_recorder.respond(500, {"ok": False, "error_code": 500, "description": "down"})
    assert "did not answer" in scheduler.run_job(app, "telegram-updates")


def test_receipts_print_the_customers_telegram_link_when_the_shop_has_a_bot(app, client, auth, monkeypatch):
    monkeypatch.setitem(app.config, "TELEGRAM_BOT_USERNAME", "@FixItShopBot")
    with app_session(app) as session:
        customer = factories.customer()
        order = factories.order(customer)
        link = f"https://t.me/FixItShopBot?start={telegram.current_code(session, customer.id).code}"
        order_id = order.id
    auth.login("front_desk")
    assert link in client.get(f"/orders/{order_id}/receipt").get_data(as_text=True)
    monkeypatch.setitem(app.config, "TELEGRAM_BOT_USERNAME", "")
    assert "t.me" not in client.get(f"/orders/{order_id}/receipt").get_data(as_text=True)
