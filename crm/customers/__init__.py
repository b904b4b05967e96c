"""Customers: phone-first records, consent, search and profile."""

from flask import Blueprint

bp = Blueprint("customers", __name__, url_prefix="/customers")

from crm.customers import views  # noqa: E402,F401
