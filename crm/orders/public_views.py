"""The customer's tracking page: /t/<tracking token>, no login. The token (192 random bits) is the only
key; the page is rate-limited per address, never cached, never indexed, and sends no Referer onwards
(the token is in its address)."""

from flask import Blueprint, current_app, make_response, render_template

from crm.auth.access import public
from crm.database import utcnow
from crm.extensions import db, limiter
from crm.locales import in_language
from crm.loyalty.queries import customer_page
from crm.orders import sections, tracking

tracking_bp = Blueprint("tracking", __name__)


def _tracking_limit() -> str:
    return current_app.config["TRACKING_RATE_LIMIT"]


@tracking_bp.route(tracking.PATH + "<tracking_token>")
@public
@limiter.limit(_tracking_limit)
def track(tracking_token: str):
    found = tracking.find(db.session, tracking_token)
    member = customer_page(db.session, found.order.customer_id, utcnow()) if found else None
    with in_language(found.language if found else None):
        page = render_template("orders/tracking.html", tracking=found, steps=tracking.STEPS, member=member,
                               sections=sections.tracking_sections(db.session, found.order) if found else [])
    response = make_response(page, 200 if found else 404)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response
