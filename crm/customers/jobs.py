"""The customers module's scheduled job: linking Telegram chats by polling the bot, for a shop whose CRM
has no public address for Telegram's webhook (with TELEGRAM_WEBHOOK_SECRET set, the webhook does it)."""

from datetime import datetime

from flask import current_app
from sqlalchemy.orm import Session

from crm.customers import telegram
from crm.jobs import every
from crm.notifications.channels import ChannelError, TelegramChannel
from crm.notifications.settings import get_settings, save_settings


@every("telegram-updates", seconds=60)
def link_telegram_chats(session: Session, now: datetime) -> str:
    """Read the bot's new messages and act on every "/start <code>", "/confirm <code>" and "/stop" as the webhook
    does."""
    bot = TelegramChannel(current_app.config)
    if not bot.configured or current_app.config.get("TELEGRAM_WEBHOOK_SECRET"):
        return "not polling (no bot, or the webhook is in use)"
    offset = get_settings(session).telegram_update_offset
    try:
        updates = bot.get_updates(offset)
    except ChannelError as error:
        return f"Telegram did not answer: {error.reason}"
    outcomes = []
    for update in updates:
        outcomes.append(telegram.receive_update(session, update, now=now))
        update_id = update.get("update_id")
        if isinstance(update_id, int) and not isinstance(update_id, bool) and update_id >= offset:
            offset = update_id + 1
    save_settings(session, telegram_update_offset=offset)
    return (f"{len(updates)} updates, {outcomes.count(telegram.LINKED)} chats linked, "
            f"{outcomes.count(telegram.AWAITING_CONFIRMATION)} awaiting confirmation")
