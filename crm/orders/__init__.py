"""Repair orders: intake, the status workflow, work and part lines, queue and receipts."""

from flask import Blueprint

bp = Blueprint("orders", __name__, url_prefix="/orders")

from crm.orders import views  # noqa: E402,F401
