"""Reports for the manager: the Loyalty report (issue 14). Read-only SQL aggregates over the other modules'
tables; a report's range comes from the query string (period.py) so it can be bookmarked."""

from flask import Blueprint

bp = Blueprint("reports", __name__, url_prefix="/reports")

from crm.reports import views  # noqa: E402,F401,I001
from crm.reports import staff_views  # noqa: E402,F401,I001
