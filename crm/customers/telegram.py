"""Linking a customer's Telegram chat with the one-time code of the /start link.

- A code is random (128 bits), belongs to one customer and works for TELEGRAM_CODE_DAYS (90) days: longer
  than a repair waits for its parts, so the code on the intake receipt still works at pickup.
- Intake issues the receipt's code when the shop has a bot and the customer has no chat linked. The
  current code is reused while more than half its life is left (a reprint, a second device the same week
  print the same code); after that, or once it is used, the next receipt gets a new one. The desk can issue
  one on the customer page. Only receipts and the desk (front desk, manager) see codes.
- The first chat to send a code is linked when the customer has no chat (or has this one); the code is used
  up, and so are the customer's other codes.
- When another chat is linked, a valid code links nothing yet: the linked chat is asked to answer
  "/confirm <code>" within CONFIRM_WITHIN, and the new chat is told so. Only the linked chat can confirm. A
  customer who lost that phone asks the desk, which unlinks it (every code stops working) and gives a new link.
- "/stop" from a linked chat turns the customer's marketing consent off (crm.customers.consent keeps the
  history); service messages still come.
- A used, expired or revoked code gets one answer per chat ("this link no longer works"); an unknown code,
  or any other message, none. The webhook and the polling job both come here (receive_update).

Replies go to the chat that wrote (or, for a confirmation request, to the linked chat) by Telegram only, and
answer the chat's own request: they need no consent. The ones to a new chat name no one: it had a receipt,
which does not make it the customer."""

import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from crm.customers.consent import TELEGRAM
from crm.customers.contact import message_variables, unsubscribe
from crm.customers.models import Customer, TelegramCode
from crm.database import utcnow
from crm.notifications.channels import command_from_update
from crm.notifications.outbox import Recipient, enqueue

CONFIRM_WITHIN = timedelta(hours=24)
_CONFIRM_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off a phone and typed back

# What an update did (the polling job counts them).
LINKED, AWAITING_CONFIRMATION, REFUSED, IGNORED = "linked", "awaiting confirmation", "refused", "ignored"
STOPPED = "stopped"


def bot_username() -> str:
    return (current_app.config.get("TELEGRAM_BOT_USERNAME") or "").lstrip("@")


def link_url(code: str) -> str:
    return f"https://t.me/{bot_username()}?start={code}"


def current_code(session: Session, customer_id: int, now: datetime | None = None) -> TelegramCode | None:
    """The customer's newest code that is neither used nor expired."""
    return session.scalar(
        select(TelegramCode)
        .where(TelegramCode.customer_id == customer_id, TelegramCode.state == "active",
               TelegramCode.expires_at > (now or utcnow()))
        .order_by(TelegramCode.expires_at.desc()).limit(1))


def shown_link(session: Session, customer_id: int | None, now: datetime | None = None) -> str | None:
    """The deep link of the customer's current code for a receipt or the desk's page, when the shop has a
    bot and there is a code (read only: codes are issued by intake and the desk)."""
    if not bot_username() or customer_id is None:
        return None
    code = current_code(session, customer_id, now)
    return link_url(code.code) if code is not None else None


def issue_code(session: Session, customer_id: int, *, now: datetime | None = None,
               fresh: bool = False) -> TelegramCode:
    """The code to print: the current one while more than half its life is left, else a new one.
    ``fresh``: always a new one, and the customer's other unused codes stop working (the desk's new link)."""
    now = now or utcnow()
    validity = timedelta(days=current_app.config["TELEGRAM_CODE_DAYS"])
    if fresh:
        _revoke(session, customer_id, ("active",))
    else:
        code = current_code(session, customer_id, now)
        if code is not None and code.expires_at - now > validity / 2:
            return code
    code = TelegramCode(customer_id=customer_id, code=secrets.token_urlsafe(16), state="active", created_at=now,
                        expires_at=now + validity)
    session.add(code)
    session.flush()
    return code


def receipt_code(session: Session, customer: Customer, *, now: datetime | None = None) -> TelegramCode | None:
    """At intake: the code for the receipt, when the shop has a bot and the customer no chat linked."""
    if not bot_username() or customer.telegram_chat_id:
        return None
    return issue_code(session, customer.id, now=now)


def unlink(session: Session, customer: Customer, *, now: datetime | None = None) -> TelegramCode | None:
    """The desk's answer to a lost phone: no chat linked, no code printed before works any more (nor a
    request waiting for confirmation), and a new code to give the customer (when the shop has a bot)."""
    customer.telegram_chat_id = None
    _revoke(session, customer.id, ("active", "awaiting_confirmation"))
    session.flush()
    return issue_code(session, customer.id, now=now, fresh=True) if bot_username() else None


def receive_update(session: Session, update_: object, *, now: datetime | None = None) -> str:
    """Act on one Telegram update (from the webhook or getUpdates): "/start CODE" or "/confirm CODE" from
    a private chat; anything else is ignored."""
    found = command_from_update(update_)
    if found is None:
        return IGNORED
    chat_id, command, argument = found
    if command == "stop":
        return stop_marketing(session, chat_id, now=now)
    if command == "start":
        return start_link(session, chat_id, argument, now=now)
    return confirm_link(session, chat_id, argument, now=now)


def stop_marketing(session: Session, chat_id: str, *, now: datetime | None = None) -> str:
    """A chat sent "/stop": the customer it is linked to no longer gets marketing messages (a row of the consent
    history, source Telegram; service messages still come) and the chat is told so. A chat linked to no one, or
    whose customer had stopped them already, changes nothing and gets no answer."""
    customers = list(session.scalars(select(Customer).where(Customer.telegram_chat_id == chat_id)
                                     .order_by(Customer.id).with_for_update()))
    now = now or utcnow()
    changed = [customer for customer in customers if unsubscribe(session, customer, source=TELEGRAM)]
    for customer in changed:
        _reply(session, customer, chat_id, "telegram_stopped", key=f"telegram:stopped:{customer.id}:{now.isoformat()}")
    return STOPPED if changed else IGNORED


def start_link(session: Session, chat_id: str, code: str, *, now: datetime | None = None) -> str:
    """A chat sent "/start <code>"."""
    now = now or utcnow()
    row = session.scalar(select(TelegramCode).where(TelegramCode.code == code).with_for_update())
    if row is None:
        return IGNORED
    customer = _lock_customer(session, row.customer_id)
    if row.state != "active" and row.chat_id == chat_id:
        return IGNORED  # the same update again, or Start pressed twice
    if row.state != "active" or row.expires_at <= now:
        _reply(session, customer, chat_id, "telegram_code_unusable", key=f"telegram:unusable:{row.id}:{chat_id}")
        return REFUSED
    row.used_at, row.chat_id = now, chat_id
    if customer.telegram_chat_id in (None, chat_id):
        _link(session, customer, row, "linked")
        return LINKED
    _revoke(session, customer.id, ("awaiting_confirmation",))  # one request at a time: the newest
    row.state, row.confirm_until = "awaiting_confirmation", now + CONFIRM_WITHIN
    row.confirm_code = "".join(secrets.choice(_CONFIRM_ALPHABET) for _ in range(10))
    session.flush()
    _reply(session, customer, customer.telegram_chat_id, "telegram_relink_requested",
           {"customer_name": customer.name, "confirm_code": row.confirm_code}, key=f"telegram:confirm:{row.id}")
    _reply(session, customer, chat_id, "telegram_relink_waiting", key=f"telegram:waiting:{row.id}")
    return AWAITING_CONFIRMATION


def confirm_link(session: Session, chat_id: str, confirm_code: str, *, now: datetime | None = None) -> str:
    """A chat sent "/confirm <code>": when it is the customer's linked chat and the request is less than
    CONFIRM_WITHIN old, the chat that asked is linked instead."""
    now = now or utcnow()
    row = session.scalar(select(TelegramCode).where(TelegramCode.confirm_code == confirm_code.upper(),
                                                    TelegramCode.state == "awaiting_confirmation").with_for_update())
    if row is None:
        return IGNORED
    customer = _lock_customer(session, row.customer_id)
    if customer.telegram_chat_id != chat_id or row.confirm_until <= now:
        return IGNORED
    _link(session, customer, row, "confirmed")
    return LINKED


def _link(session: Session, customer: Customer, row: TelegramCode, state: str) -> None:
    customer.telegram_chat_id = row.chat_id
    row.state = state
    _revoke(session, customer.id, ("active", "awaiting_confirmation"), keep=row.id)
    session.flush()
    _reply(session, customer, row.chat_id, "telegram_linked", {"customer_name": customer.name},
           key=f"telegram:linked:{row.id}")


def _lock_customer(session: Session, customer_id: int) -> Customer:
    return session.scalar(select(Customer).where(Customer.id == customer_id).with_for_update())


def _revoke(session: Session, customer_id: int, states: tuple[str, ...], keep: int | None = None) -> None:
    query = update(TelegramCode).where(TelegramCode.customer_id == customer_id, TelegramCode.state.in_(states))
    if keep is not None:
        query = query.where(TelegramCode.id != keep)
    session.execute(query.values(state="revoked"))


def _reply(session: Session, customer: Customer, chat_id: str, event: str, variables: dict | None = None, *,
           key: str) -> None:
    to_chat = Recipient(customer_id=customer.id, name="", telegram_chat_id=chat_id, preferred_channel="telegram",
                        language=customer.language, service_consent=True)
    enqueue(session, to_chat, event, {**message_variables(), **(variables or {})}, dedupe_key=key)
