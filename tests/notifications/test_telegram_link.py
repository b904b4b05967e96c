"""Linking a customer's Telegram chat with the one-time code of the /start link: used once, expiring, a
second chat linked only after the first one confirms, and the code shown only on receipts and to the desk.
The webhook and the polling job (getUpdates) follow the same rules."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from crm.customers import telegram
from crm.customers.models import Customer, TelegramCode
from crm.database import utcnow
from crm.extensions import db
from crm.notifications.models import OutboxMessage
from tests import factories
from tests.conftest import csrf_token
from tests.helpers import app_session

SECRET = "hook-secret"
_update_ids = iter(range(1000, 100000))


@pytest.fixture(autouse=True)
def _bot(app, monkeypatch):
    monkeypatch.setitem(app.config, "TELEGRAM_BOT_TOKEN", "42:bot-token")
    monkeypatch.setitem(app.config, "TELEGRAM_BOT_USERNAME", "FixItShopBot")
    monkeypatch.setitem(app.config, "TELEGRAM_WEBHOOK_SECRET", SECRET)


def update(chat: int, text: str, chat_type: str = "private") -> dict:
    return {"update_id": next(_update_ids), "message": {"chat": {"id": chat, "type": chat_type}, "text": text}}


def send(client, chat: int, text: str, chat_type: str = "private") -> None:
    response = client.post("/telegram/webhook", json=update(chat, text, chat_type),
                           headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
    assert response.status_code == 200


def new_customer(app, chat: str | None = None) -> int:
    with app_session(app):
        customer = factories.customer()
        customer.telegram_chat_id = chat
        return customer.id


def issue(app, customer_id: int, *, now=None) -> str:
    """A receipt's code, issued the way intake issues it."""
    with app_session(app) as session:
        return telegram.issue_code(session, customer_id, now=now or utcnow()).code


def linked_chat(app, customer_id: int) -> str | None:
    with app.app_context():
        return db.session.get(Customer, customer_id).telegram_chat_id


def messages_to(app, chat: int) -> list[tuple[str, str]]:
    with app.app_context():
        return [(m.event, m.body_text) for m in db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.address == str(chat)).order_by(OutboxMessage.id))]


def test_a_code_links_the_first_chat_and_is_then_used_up(app, client):
    customer_id = new_customer(app)
    code = issue(app, customer_id)
    send(client, 777001, f"/start {code}")
    assert linked_chat(app, customer_id) == "777001"
    assert [event for event, _ in messages_to(app, 777001)] == ["telegram_linked"]
    send(client, 777001, f"/start {code}")  # Telegram resends an update it thinks was lost
    assert [event for event, _ in messages_to(app, 777001)] == ["telegram_linked"]
    send(client, 888002, f"/start {code}")  # someone else who saw the receipt
    assert linked_chat(app, customer_id) == "777001"
    assert [event for event, _ in messages_to(app, 888002)] == ["telegram_code_unusable"]
    assert [event for event, _ in messages_to(app, 777001)] == ["telegram_linked"]  # nothing to confirm


def test_the_next_receipt_gets_a_new_code_and_a_reprint_the_same_one(app):
    customer_id = new_customer(app)
    first = issue(app, customer_id)
    assert issue(app, customer_id) == first  # the receipt printed twice, or a second device the same week
    with app_session(app) as session:
        assert telegram.start_link(session, "5001", first, now=utcnow()) == telegram.LINKED
    with app_session(app) as session:
        customer = session.get(Customer, customer_id)
        customer.telegram_chat_id = None  # the desk unlinked it, say
    assert issue(app, customer_id) != first


def test_a_code_works_for_the_configured_days_and_then_expires(app, client):
    days = app.config["TELEGRAM_CODE_DAYS"]
    old_customer, recent_customer = new_customer(app), new_customer(app)
    old = issue(app, old_customer, now=utcnow() - timedelta(days=days, minutes=1))
    recent = issue(app, recent_customer, now=utcnow() - timedelta(days=days - 1))  # a repair awaiting parts
    send(client, 6001, f"/start {old}")
    send(client, 6002, f"/start {recent}")
    assert linked_chat(app, old_customer) is None
    assert [event for event, _ in messages_to(app, 6001)] == ["telegram_code_unusable"]
    assert linked_chat(app, recent_customer) == "6002"


def test_a_code_with_less_than_half_its_life_left_is_replaced_for_the_next_receipt(app):
    days = app.config["TELEGRAM_CODE_DAYS"]
    customer_id = new_customer(app)
    aging = issue(app, customer_id, now=utcnow() - timedelta(days=days // 2 + 1))
    fresh = issue(app, customer_id)
    assert fresh != aging
    with app.app_context():
        assert {c.code for c in db.session.scalars(select(TelegramCode).where(TelegramCode.state == "active"))} \
            == {aging, fresh}  # the older receipt still works until it expires


def test_a_second_chat_is_linked_only_when_the_first_chat_confirms(app, client):
    customer_id = new_customer(app, chat="1001")
    code = issue(app, customer_id)
    send(client, 2002, f"/start {code}")
    assert linked_chat(app, customer_id) == "1001"
    [(event, question)] = messages_to(app, 1001)
    assert event == "telegram_relink_requested"
    confirm = re.search(r"/confirm (\S+)", question).group(1)
    assert [event for event, _ in messages_to(app, 2002)] == ["telegram_relink_waiting"]
    send(client, 2002, f"/confirm {confirm}")  # only the chat already linked may confirm
    send(client, 3003, f"/confirm {confirm}")
    assert linked_chat(app, customer_id) == "1001"
    send(client, 1001, f"/confirm {confirm}")
    assert linked_chat(app, customer_id) == "2002"
    assert [event for event, _ in messages_to(app, 2002)] == ["telegram_relink_waiting", "telegram_linked"]
    send(client, 1001, f"/confirm {confirm}")  # a confirmation is used once too
    send(client, 1001, f"/start {code}")
    assert linked_chat(app, customer_id) == "2002"


def test_an_unconfirmed_request_lapses_after_a_day(app):
    customer_id = new_customer(app, chat="1001")
    code = issue(app, customer_id)
    asked = utcnow()
    with app_session(app) as session:
        assert telegram.start_link(session, "2002", code, now=asked) == telegram.AWAITING_CONFIRMATION
        confirm = session.scalar(select(TelegramCode).where(TelegramCode.code == code)).confirm_code
    with app_session(app) as session:
        late = asked + telegram.CONFIRM_WITHIN + timedelta(minutes=1)
        assert telegram.confirm_link(session, "1001", confirm, now=late) == telegram.IGNORED
    assert linked_chat(app, customer_id) == "1001"


def test_a_customer_who_lost_their_phone_relinks_through_the_desk(app, client, auth):
    customer_id = new_customer(app, chat="1001")
    old_code = issue(app, customer_id)
    auth.login("front_desk")
    response = client.post(f"/customers/{customer_id}/telegram/unlink",
                           data={"csrf_token": csrf_token(client, f"/customers/{customer_id}")})
    assert response.status_code == 302
    assert linked_chat(app, customer_id) is None
    page = client.get(f"/customers/{customer_id}").get_data(as_text=True)
    new_code = re.search(r"t\.me/FixItShopBot\?start=([A-Za-z0-9_-]+)", page).group(1)
    assert new_code != old_code  # what was printed before the phone was lost no longer links
    send(client, 4004, f"/start {old_code}")
    assert linked_chat(app, customer_id) is None
    send(client, 4004, f"/start {new_code}")
    assert linked_chat(app, customer_id) == "4004"  # no chat to ask: linked at once


def test_the_desk_gives_a_linked_customer_a_new_link_for_a_new_phone(app, client, auth):
    customer_id = new_customer(app, chat="1001")
    auth.login("front_desk")
    page = client.get(f"/customers/{customer_id}").get_data(as_text=True)
    assert "start=" not in page  # a linked customer has no code lying around
    client.post(f"/customers/{customer_id}/telegram/code",
                data={"csrf_token": csrf_token(client, f"/customers/{customer_id}")})
    page = client.get(f"/customers/{customer_id}").get_data(as_text=True)
    code = re.search(r"start=([A-Za-z0-9_-]+)", page).group(1)
    send(client, 2002, f"/start {code}")
    assert linked_chat(app, customer_id) == "1001"  # the old phone still has the last word
    assert [event for event, _ in messages_to(app, 1001)] == ["telegram_relink_requested"]


def test_a_group_chat_cannot_link_a_customer(app, client):
    customer_id = new_customer(app)
    code = issue(app, customer_id)
    send(client, -100123, f"/start {code}", chat_type="group")
    assert linked_chat(app, customer_id) is None
    send(client, 5005, f"/start {code}")
    assert linked_chat(app, customer_id) == "5005"


def test_polling_follows_the_same_rules_as_the_webhook(app, http_recorder, monkeypatch):
    from crm import scheduler

    monkeypatch.setitem(app.config, "TELEGRAM_WEBHOOK_SECRET", "")
    monkeypatch.setitem(app.config, "TELEGRAM_API_BASE", http_recorder.url)
    linked, fresh = new_customer(app, chat="1001"), new_customer(app)
    linked_code, fresh_code = issue(app, linked), issue(app, fresh)
    http_recorder.respond(200, {"ok": True, "result": [
        update(2002, f"/start {linked_code}"), update(3003, f"/start {fresh_code}"),
        update(4004, f"/start {fresh_code}")]})
    assert scheduler.run_job(app, "telegram-updates") == "3 updates, 1 chats linked, 1 awaiting confirmation"
    assert (linked_chat(app, linked), linked_chat(app, fresh)) == ("1001", "3003")
    assert [event for event, _ in messages_to(app, 4004)] == ["telegram_code_unusable"]
    [(_event, question)] = messages_to(app, 1001)
    confirm = re.search(r"/confirm (\S+)", question).group(1)
    http_recorder.respond(200, {"ok": True, "result": [update(1001, f"/confirm {confirm}")]})
    assert scheduler.run_job(app, "telegram-updates") == "1 updates, 1 chats linked, 0 awaiting confirmation"
    assert linked_chat(app, linked) == "2002"


@pytest.mark.parametrize("role", ["technician", "front_desk", "manager"])
def test_the_code_is_shown_on_receipts_and_to_the_desk_never_to_technicians(app, client, auth, role):
    with app_session(app):
        customer = factories.customer()
        order = factories.order(customer)  # intake issues the receipt's code
        customer_id, order_id = customer.id, order.id
    with app.app_context():
        [code] = db.session.scalars(select(TelegramCode.code).where(TelegramCode.customer_id == customer_id))
    auth.login(role)
    pages = [f"/customers/{customer_id}", f"/orders/{order_id}", f"/orders/{order_id}/receipt"]
    seen = {path: code in client.get(path).get_data(as_text=True) for path in pages}
    if role == "technician":
        assert seen == dict.fromkeys(pages, False)
    else:
        assert seen[f"/customers/{customer_id}"] and seen[f"/orders/{order_id}/receipt"]


def test_two_chats_sending_the_same_code_at_once_link_one(app):
    """Real threads, each its own connection: the code row is locked, so the second sees it used."""
    from tests.factories.sales import run_at_once

    customer_id = new_customer(app)
    code = issue(app, customer_id)
    outcomes = run_at_once(app, lambda session: telegram.start_link(session, "7001", code),
                           lambda session: telegram.start_link(session, "7002", code))
    assert sorted(outcomes) == [telegram.LINKED, telegram.REFUSED]
    winner = linked_chat(app, customer_id)
    loser = "7002" if winner == "7001" else "7001"
    assert [event for event, _ in messages_to(app, int(winner))] == ["telegram_linked"]
    assert [event for event, _ in messages_to(app, int(loser))] == ["telegram_code_unusable"]
