"""Adding messages to the outbox, in the caller's transaction.

The channel is chosen when the message is added, from the customer's preference, the addresses they
gave and the channels the shop configured; a customer who cannot or may not be reached gets a row
with status "skipped" and the reason, so the manager sees why nothing went out."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm.database import utcnow
from crm.locales import LazyText, in_language
from crm.locales import lazy_gettext as _l
from crm.notifications import settings as notification_settings
from crm.notifications.channels import channels_from_config
from crm.notifications.events import EVENTS, MARKETING
from crm.notifications.models import OutboxMessage
from crm.notifications.render import render_message
from crm.shop_time import shop_tz

CHANNEL_ORDER = ("telegram", "email", "sms")

# Why a message was not sent, stored in English (the row outlives any one reader's language) and shown
# translated through this table (crm.notifications.views.reason_label).
NO_CHANNEL = "No channel is configured (e-mail, SMS or Telegram)."
NO_ADDRESS = "The customer has no address on a configured channel."
NO_MARKETING_CONSENT = "The customer has not agreed to marketing messages."
NO_SERVICE_CONSENT = "The customer has not agreed to service messages."
NO_UNSUBSCRIBE_LINK = "A marketing message needs an unsubscribe link."
MARKETING_WITHDRAWN = "Marketing consent was withdrawn."
SERVICE_WITHDRAWN = "Service consent was withdrawn."
UNSUBSCRIBED = "The customer unsubscribed from marketing messages."
REASONS = {
    NO_CHANNEL: _l("No channel is configured (e-mail, SMS or Telegram)."),
    NO_ADDRESS: _l("The customer has no address on a configured channel."),
    NO_MARKETING_CONSENT: _l("The customer has not agreed to marketing messages."),
    NO_SERVICE_CONSENT: _l("The customer has not agreed to service messages."),
    NO_UNSUBSCRIBE_LINK: _l("A marketing message needs an unsubscribe link."),
    MARKETING_WITHDRAWN: _l("Marketing consent was withdrawn."),
    SERVICE_WITHDRAWN: _l("Service consent was withdrawn."),
    UNSUBSCRIBED: _l("The customer unsubscribed from marketing messages."),
}


@dataclass(frozen=True)
class Recipient:
    """Everything the outbox needs to know about a customer (built by crm.customers.contact)."""

    customer_id: int | None
    name: str
    email: str | None = None
    phone: str | None = None
    telegram_chat_id: str | None = None
    preferred_channel: str = "auto"
    language: str | None = None
    service_consent: bool = True
    marketing_consent: bool = False
    unsubscribe_url: str | None = None

    def address(self, channel: str) -> str | None:
        return {"email": self.email, "sms": self.phone, "telegram": self.telegram_chat_id}.get(channel) or None


def configured_channels() -> set[str]:
    return {name for name, channel in channels_from_config(current_app.config).items() if channel.configured}


def choose_channel(recipient: Recipient, configured: set[str]) -> tuple[str | None, str]:
    """(channel, "") for the channel to use, or (None, reason). The preferred channel comes first when
    it can be used; otherwise the first usable one of Telegram, e-mail, SMS."""
    order = list(CHANNEL_ORDER)
    if recipient.preferred_channel in order:
        order.remove(recipient.preferred_channel)
        order.insert(0, recipient.preferred_channel)
    for channel in order:
        if channel in configured and recipient.address(channel):
            return channel, ""
    return None, NO_CHANNEL if not configured else NO_ADDRESS


def after_quiet_hours(moment: datetime, start_minute: int, end_minute: int) -> datetime:
    """``moment`` if it is outside the quiet hours (shop time), else the end of the quiet hours.
    Quiet hours may span midnight (21:00-09:00); start == end means none."""
    if start_minute == end_minute:
        return moment
    local = moment.astimezone(shop_tz())
    minute = local.hour * 60 + local.minute
    spans_midnight = start_minute > end_minute
    quiet = (minute >= start_minute or minute < end_minute) if spans_midnight else start_minute <= minute < end_minute
    if not quiet:
        return moment
    day = local.date()
    if spans_midnight and minute >= start_minute:
        day += timedelta(days=1)
    wake = datetime(day.year, day.month, day.day, end_minute // 60, end_minute % 60, tzinfo=shop_tz())
    return max(wake.astimezone(moment.tzinfo), moment)


def translated_variables(variables: dict, language: str) -> dict:
    """The variables as plain values, translated ones (crm.locales' lazy texts) in the message's
    language: a status or a device type reads in the customer's language, not the staff member's."""
    with in_language(language):
        return {name: str(value) if isinstance(value, LazyText) else value for name, value in variables.items()}


def find_by_key(session: Session, dedupe_key: str) -> OutboxMessage | None:
    return session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key))


def enqueue(session: Session, recipient: Recipient, event_code: str, variables: dict, *,
            dedupe_key: str | None = None, now: datetime | None = None) -> OutboxMessage:
    """Add the message for ``event_code`` to the outbox (once per ``dedupe_key``: a second call with the
    same key returns the first row). Consent, channel and quiet hours are decided here; the row is
    sent by the dispatcher after the caller commits, and never if the caller rolls back."""
    event = EVENTS[event_code]
    now = now or utcnow()
    if dedupe_key is not None:
        existing = find_by_key(session, dedupe_key)
        if existing is not None:
            return existing
    marketing = event.kind == MARKETING
    row = OutboxMessage(event=event_code, kind=event.kind, customer_id=recipient.customer_id, dedupe_key=dedupe_key,
                        language=recipient.language or current_app.config["BABEL_DEFAULT_LOCALE"],
                        status="pending", attempts=0, created_at=now, next_attempt_at=now, last_error="")
    consent = recipient.marketing_consent if marketing else recipient.service_consent
    channel, reason = choose_channel(recipient, configured_channels())
    if not consent:
        reason = NO_MARKETING_CONSENT if marketing else NO_SERVICE_CONSENT
        channel = None
    elif marketing and not recipient.unsubscribe_url:
        channel, reason = None, NO_UNSUBSCRIBE_LINK
    if channel is None:
        row.status, row.last_error = "skipped", reason
    else:
        row.channel, row.address = channel, recipient.address(channel)
        rendered = render_message(session, event_code, channel, row.language,
                                  translated_variables(variables, row.language),
                                  default_language=current_app.config["BABEL_DEFAULT_LOCALE"],
                                  unsubscribe_url=recipient.unsubscribe_url if marketing else None)
        row.subject, row.body_text = rendered.subject, rendered.text
        row.body_html = rendered.html if channel == "email" else None
        row.unsubscribe_url = recipient.unsubscribe_url if marketing else None
        if marketing:
            settings = notification_settings.get_settings(session)
            row.next_attempt_at = after_quiet_hours(now, settings.quiet_start_minute, settings.quiet_end_minute)
    if dedupe_key is None:
        session.add(row)
        session.flush()
        return row
    try:  # the UNIQUE key settles a race with another process adding the same message
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        existing = find_by_key(session, dedupe_key)
        if existing is None:
            raise
        return existing
    return row


def cancel_unsent(session: Session, customer_id: int, *, kind: str, reason: str) -> int:
    """Stop the customer's messages of ``kind`` not yet sent (consent withdrawn, unsubscribed). A message
    being sent right now is not recalled."""
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.customer_id == customer_id, OutboxMessage.kind == kind,
               OutboxMessage.status.in_(("pending", "failed")))
        .values(status="skipped", last_error=reason[:500])
        .execution_options(synchronize_session=False))
    return result.rowcount or 0
