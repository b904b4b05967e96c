"""Feedback: the customer's rating of a repair after pickup (on the tracking page), the message that asks
for it, and the manager's Feedback page with the follow-up of low ratings."""

from flask import Blueprint

bp = Blueprint("feedback", __name__, url_prefix="/feedback")

from crm.feedback import models, sections, views  # noqa: E402,F401,I001
from crm.feedback.public_views import public_bp  # noqa: E402,F401,I001
