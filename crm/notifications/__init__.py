"""Notifications: the transactional outbox, message templates, channels (e-mail, SMS, Telegram) and the
dispatcher. It depends on no other crm module: callers hand it a Recipient and the message's variables."""

from flask import Blueprint

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

from crm.notifications import models, views  # noqa: E402,F401,I001
