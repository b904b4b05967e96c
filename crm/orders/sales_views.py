"""Sales pages: carts, checkout, receipts, refunds and the end-of-day report."""

from crm.orders import sales_bp  # noqa: F401
