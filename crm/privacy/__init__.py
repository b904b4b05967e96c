"""Privacy: what the shop holds about one customer, exported on request (a ZIP of JSON and CSV), and the whole
customer list as CSV for the shop's own use (issue 17; the structure is documented in docs/privacy.md)."""

from flask import Blueprint

bp = Blueprint("privacy", __name__)

from crm.privacy import views  # noqa: E402,F401,I001
