"""The customer's tracking page: /t/<tracking token>, no login. The token (192 random bits) is the only
key; the page is rate-limited per address, never cached, never indexed, and sends no Referer onwards
(the token is in its address)."""

from flask import Blueprint, current_app, make_response, render_template

from crm.auth.access import public
from crm.database import utcnow
from crm.extensions import db, limiter
from crm.locales import in_language
from crm.loyalty.queries import customer_page
from crm.orders import quote_page, sections, tracking

tracking_bp = Blueprint("tracking", __name__)


def _tracking_limit() -> str:
    return current_app.config["TRACKING_RATE_LIMIT"]


@tracking_bp.route(tracking.PATH + "<tracking_token>")
@public
@limiter.limit(_tracking_limit)
def track(tracking_token: str):
    return render_tracking(tracking.find(db.session, tracking_token))


def render_tracking(found, code: int | None = None, **extra):
    """The page for ``found`` (None: not found), with what each section of it needs: the quote, the member's
    points and tier, the sections other modules register (feedback), and ``extra`` (a refused quote's message)."""
    member = customer_page(db.session, found.order.customer_id, utcnow()) if found else None
    with in_language(found.language if found else None):
        page = render_template("orders/tracking.html", tracking=found, steps=tracking.STEPS, member=member,
                               sections=sections.tracking_sections(db.session, found.order) if found else [],
                               **quote_page.section(found), **extra)
    response = make_response(page, code or (200 if found else 404))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response
