"""/api/widget: what the repair-status widget on a shop's website asks (crm/api/widget.py says the rules).

POST /api/widget/status takes ``number`` and ``last4`` (form fields, so the browser sends a simple request and
needs no preflight; JSON works too) and answers JSON; GET /api/widget/labels gives the widget's words in a shop
language (``lang``). Both answer with CORS headers only for the listed websites."""

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _

from crm.api import widget
from crm.api.problems import problem
from crm.auth.access import public
from crm.extensions import csrf, db, limiter
from crm.locales import in_language

bp = Blueprint("widget", __name__, url_prefix="/api/widget")
csrf.exempt(bp)


def _limit() -> str:
    return current_app.config["WIDGET_RATE_LIMIT"]


@bp.before_request
def only_listed_websites():
    """A browser says which page calls: a page of a website the manager did not list is refused outright."""
    origin = request.headers.get("Origin")
    if origin is not None and origin not in widget.allowed_origins(db.session):
        return problem(403, "Forbidden", "This website may not use the repair-status widget.")
    return None


@bp.after_request
def cors(response):
    origin = request.headers.get("Origin")
    if origin is not None and origin in widget.allowed_origins(db.session):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = "GET, POST"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        response.headers["Access-Control-Max-Age"] = "600"
    response.headers["Vary"] = "Origin"
    response.headers["Cache-Control"] = "no-store"
    return response


def _language() -> str | None:
    lang = (request.values.get("lang") or "").strip().lower()[:5]
    return lang if lang in current_app.config["LANGUAGES"] else None


@bp.route("/status", methods=["POST"])
@public
@limiter.limit(_limit)
def status():
    data = request.get_json(silent=True) if request.is_json else request.form
    data = data if isinstance(data, dict) or hasattr(data, "get") else {}
    number, last4 = str(data.get("number") or ""), str(data.get("last4") or "")
    with in_language(_language()):
        answer = widget.lookup(db.session, number, last4)
        if answer["status_label"] is not None:
            answer["status_label"] = str(answer["status_label"])
        answer["message"] = (_("Status of your repair: %(status)s", status=answer["status_label"])
                             if answer["found"] else
                             _("We could not find a repair with this number and these digits. Check both and try "
                               "again, or call the shop."))
    return jsonify(answer)


@bp.route("/labels")
@public
def labels():
    with in_language(_language()):
        return jsonify({"title": _("Check my repair"), "number": _("Order number (on your receipt)"),
                        "last4": _("Last 4 digits of your phone"), "submit": _("Check"),
                        "open": _("Open the repair page")})
