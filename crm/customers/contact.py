"""How the shop reaches a customer: the outbox's Recipient and the signed unsubscribe link (the Telegram
link's codes are in crm.customers.telegram)."""

from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.customers.consent import UNSUBSCRIBE_LINK, set_consents
from crm.customers.models import Customer
from crm.customers.profile import MESSAGES, ProfileSection, register_profile_section
from crm.database import utcnow
from crm.links import public_url
from crm.notifications.events import EVENTS
from crm.notifications.models import OutboxMessage
from crm.notifications.outbox import UNSUBSCRIBED, Recipient, cancel_unsent

_EPOCH_DAY = date(1970, 1, 1).toordinal()


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="unsubscribe-marketing")


@dataclass(frozen=True)
class UnsubscribeLink:
    customer_id: int
    expired: bool


def unsubscribe_token(customer_id: int, now: datetime | None = None) -> str:
    """The signed customer id and the day the link was made (days since 1970, UTC)."""
    return _serializer().dumps([customer_id, (now or utcnow()).date().toordinal() - _EPOCH_DAY])


def read_unsubscribe_token(token: str, now: datetime | None = None) -> UnsubscribeLink | None:
    """The link a token stands for, or None for anything forged or damaged. A link made more than
    UNSUBSCRIBE_LINK_DAYS ago has expired, and so has one of the first version (a bare id, no date)."""
    try:
        value = _serializer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if _is_id(value):
        return UnsubscribeLink(value, expired=True)
    if not (isinstance(value, list) and len(value) == 2 and _is_id(value[0]) and _is_id(value[1])):
        return None
    age = (now or utcnow()).date().toordinal() - _EPOCH_DAY - value[1]
    return UnsubscribeLink(value[0], expired=age > current_app.config["UNSUBSCRIBE_LINK_DAYS"])


def _is_id(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def unsubscribe_url(customer_id: int, now: datetime | None = None) -> str:
    return public_url(f"/u/{unsubscribe_token(customer_id, now)}")


def message_variables(customer: Customer | None = None) -> dict:
    """The variables every message may use: the shop's name and phone, and the customer's name when the message
    may name them (a reply to an unconfirmed Telegram chat may not)."""
    variables = {"shop_name": current_app.config["SHOP_NAME"], "shop_phone": current_app.config["SHOP_PHONE"]}
    if customer is not None:
        variables["customer_name"] = customer.name
    return variables


def recipient(customer: Customer) -> Recipient:
    return Recipient(
        customer_id=customer.id, name=customer.name, email=customer.email, phone=customer.phone,
        telegram_chat_id=customer.telegram_chat_id, preferred_channel=customer.preferred_channel or "auto",
        language=customer.language, service_consent=customer.service_consent,
        marketing_consent=customer.marketing_consent, unsubscribe_url=unsubscribe_url(customer.id))


def unsubscribe(session: Session, customer: Customer, *, source: str = UNSUBSCRIBE_LINK) -> bool:
    """Turn marketing consent off (idempotent; a row of the consent history when it was on) and stop marketing
    messages not yet sent. Returns whether the consent was on."""
    was_on = customer.marketing_consent
    if was_on:
        set_consents(session, customer, {"marketing": False}, source=source, now=utcnow())
    cancel_unsent(session, customer.id, kind="marketing", reason=UNSUBSCRIBED)
    session.flush()
    return was_on


def recent_messages(session: Session, customer_id: int, limit: int = 10) -> list[OutboxMessage]:
    """The customer's latest messages for their page (index on customer and id)."""
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.customer_id == customer_id)
                                .order_by(OutboxMessage.id.desc()).limit(limit)))


register_profile_section(ProfileSection(
    template="customers/_messages.html",
    context=lambda session, customer: {"messages": recent_messages(session, customer.id), "events": EVENTS},
    order=90, tab=MESSAGES,
))
