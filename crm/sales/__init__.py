"""Selling: carts, the checkout and its payments, pricing, refunds, the loyalty bridge at checkout and the
end-of-day report. A sale stands alone or pays for a repair order at pickup."""

from flask import Blueprint

bp = Blueprint("sales", __name__, url_prefix="/sales")

from crm.sales import models, refund_views, views  # noqa: E402,F401,I001
