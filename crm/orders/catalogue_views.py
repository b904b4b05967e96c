"""Catalogue pages: items, categories, stock movements and the low-stock list."""

from crm.orders import catalogue_bp  # noqa: F401
