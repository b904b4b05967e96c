"""Webhooks: the manager registers URLs for events (an order's status changed, an order is ready, a sale is paid,
points changed); each event is a signed JSON POST, queued in the transaction of its cause and delivered by the
notifications dispatcher's functions (retries with backoff, failed with a reason, the manager's retry). The
services below call crm.webhooks.events; this module imports no module above it."""

from flask import Blueprint

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")

from crm.webhooks import models, views  # noqa: E402,F401,I001
