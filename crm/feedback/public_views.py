"""The customer's rating, posted from their tracking page: POST /t/<tracking token>/feedback, no login.

CSRF without a session: the tracking page sets no cookie (it is opened from messages, often in a messenger's own
browser, and a session cookie would be the only state a visitor carries), so Flask-WTF's session-bound token is off
for this form and the form carries ``form_token``, an HMAC of the tracking token
(crm.orders.tracking.page_form_token), instead. Only our page can write it (it needs SECRET_KEY), it names this one
repair (a token of another order does not fit), it needs no server state (any worker checks it) and a new SECRET_KEY
retires every one. Whoever holds the tracking link may rate the repair: that is the link's purpose; the token stops
a post that did not come from the page. Rate-limited like the page (TRACKING_RATE_LIMIT), never cached, no Referer
onwards."""


from flask import Blueprint, current_app, make_response, redirect, render_template

from crm.auth.access import public
from crm.extensions import csrf, db, limiter
from crm.feedback import service
from crm.feedback.forms import FeedbackForm
from crm.feedback.sections import TRACKING_TEMPLATE
from crm.locales import in_language
from crm.locales import lazy_gettext as _l
from crm.orders import sections, tracking
from crm.orders.tracking import page_form_token_valid

public_bp = Blueprint("feedback_public", __name__)


def _tracking_limit() -> str:
    return current_app.config["TRACKING_RATE_LIMIT"]


def _private(response):
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _page(found, code: int, form: FeedbackForm | None = None, problem=None):
    """The tracking page again, its feedback section showing the refused form with what was typed."""
    shown = [(template, {**values, "form": form or values["form"], "problem": problem})
             if template == TRACKING_TEMPLATE else (template, values)
             for template, values in sections.tracking_sections(db.session, found.order)]
    if problem and all(template != TRACKING_TEMPLATE for template, _ in shown):  # not picked up: only the problem
        shown.append((TRACKING_TEMPLATE, {"feedback": None, "can_rate": False, "problem": problem}))
    with in_language(found.language):
        page = render_template("orders/tracking.html", tracking=found, steps=tracking.STEPS, sections=shown)
    return _private(make_response(page, code))


@public_bp.route(tracking.PATH + "<tracking_token>/feedback", methods=["POST"])
@public
@csrf.exempt  # the form proves itself with form_token, bound to the tracking token (above)
@limiter.limit(_tracking_limit)
def leave(tracking_token: str):
    found = tracking.find(db.session, tracking_token)
    if found is None:
        with in_language(None):
            page = render_template("orders/tracking.html", tracking=None, steps=tracking.STEPS, sections=[])
        return _private(make_response(page, 404))
    form = FeedbackForm()
    # Bytes: compare_digest refuses str with non-ASCII characters (a forged token may have any).
    if not page_form_token_valid(current_app.config["SECRET_KEY"], tracking_token, "feedback", form.form_token.data):
        return _page(found, 400, form, _l("This form did not come from your page. Please choose your rating again."))
    if not form.validate():
        return _page(found, 422, form)
    try:
        service.leave_feedback(db.session, found.order.id, int(form.rating.data), form.comment.data,
                               change_days=current_app.config["FEEDBACK_CHANGE_DAYS"])
    except service.FeedbackError as error:
        db.session.rollback()
        found = tracking.find(db.session, tracking_token)
        return _page(found, 409, form, error.message)
    db.session.commit()
    return _private(redirect(tracking.PATH + tracking_token + "#feedback", 303))
