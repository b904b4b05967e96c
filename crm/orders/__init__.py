"""Repair orders (intake, status workflow, lines, queue, receipts), the catalogue and stock, sales,
checkout, refunds and the end-of-day report."""

from flask import Blueprint

bp = Blueprint("orders", __name__, url_prefix="/orders")
catalogue_bp = Blueprint("catalogue", __name__, url_prefix="/catalogue")
sales_bp = Blueprint("sales", __name__, url_prefix="/sales")

from crm.orders import catalogue_models, catalogue_views, models, refund_views, sales_models, sales_views, views  # noqa: E402,F401,I001
from crm.orders import report_views  # noqa: E402,F401,I001
from crm.orders.public_views import tracking_bp  # noqa: E402,F401,I001
