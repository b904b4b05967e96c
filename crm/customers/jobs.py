"""The customers module's scheduled job: linking Telegram chats by polling the bot, for a shop whose CRM
has no public address for Telegram's webhook (with TELEGRAM_WEBHOOK_SECRET set, the webhook does it)."""

from datetime import datetime

from flask import current_app
from sqlalchemy.orm import Session

from crm.customers.contact import link_telegram_chat
from crm.jobs import every
from crm.notifications.channels import ChannelError, TelegramChannel, start_code_from_update
from crm.notifications.settings import get_settings, save_settings


@every("telegram-updates", seconds=60)
def link_telegram_chats(session: Session, now: datetime) -> str:
    """Read the bot's new messages and link every chat that sent "/start <code>" to its customer."""
    bot = TelegramChannel(current_app.config)
    if not bot.configured or current_app.config.get("TELEGRAM_WEBHOOK_SECRET"):
        return "not polling (no bot, or the webhook is in use)"
    offset = get_settings(session).telegram_update_offset
    try:
        updates = bot.get_updates(offset)
    except ChannelError as error:
        return f"Telegram did not answer: {error.reason}"
    linked = 0
    for update in updates:
        found = start_code_from_update(update)
        if found is not None and link_telegram_chat(session, found[1], found[0]) is not None:
            linked += 1
        update_id = update.get("update_id")
        if isinstance(update_id, int) and not isinstance(update_id, bool) and update_id >= offset:
            offset = update_id + 1
    save_settings(session, telegram_update_offset=offset)
    return f"{len(updates)} updates, {linked} chats linked"
