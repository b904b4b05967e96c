"""Repair orders: intake, status workflow, work and part lines, the technician's queue, the intake receipt and
the customer's tracking page."""

from flask import Blueprint

bp = Blueprint("orders", __name__, url_prefix="/orders")

from crm.orders import models, views  # noqa: E402,F401,I001
from crm.orders import reminder_views  # noqa: E402,F401,I001
from crm.orders.public_views import tracking_bp  # noqa: E402,F401,I001
from crm.orders import quote_views  # noqa: E402,F401,I001
