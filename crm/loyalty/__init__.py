"""The loyalty module: program settings, tiers, the points ledger, coupons, referral.

It depends on customers only; orders call into it at checkout and refund (crm.sales.loyalty)
with plain values (customer, amounts per category, a reference) and get back reductions and
ledger entries (see docs/architecture.md)."""

from flask import Blueprint

bp = Blueprint("loyalty", __name__, url_prefix="/loyalty")

from crm.loyalty import models, settings_views, views  # noqa: E402,F401,I001
