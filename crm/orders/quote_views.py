"""Quote decisions over HTTP: the customer's Approve / Decline on the tracking page (no login, POST
/t/<token>/quote) and the desk's record of a decision given by phone (POST /orders/<id>/quote-decision)."""

from flask import current_app, flash, redirect, request, url_for
from flask_babel import gettext as _

from crm.auth.access import acting_staff, public, roles_required
from crm.auth.models import Role
from crm.extensions import csrf, db, limiter
from crm.numbers import whole_number
from crm.orders import bp, quotes, tracking
from crm.orders.forms import PhoneDecisionForm
from crm.orders.public_views import render_tracking, tracking_bp
from crm.orders.views import keep_form, load_order, render_detail

CHOICES = {"approve": "approved", "decline": "declined"}


def _tracking_limit() -> str:
    return current_app.config["TRACKING_RATE_LIMIT"]


@tracking_bp.route(tracking.PATH + "<tracking_token>/quote", methods=["POST"])
@public
# The page sets no session cookie, so Flask-WTF's session-bound token cannot work here; the form carries
# quotes.form_token (an HMAC of the tracking token and the quote version under SECRET_KEY) instead.
@csrf.exempt
@limiter.limit(_tracking_limit)
def decide_quote(tracking_token: str):
    found = tracking.find(db.session, tracking_token)
    if found is None:
        return render_tracking(None)
    version = whole_number(request.form.get("version"))
    decision = CHOICES.get(request.form.get("decision", ""))
    if version is None or decision is None or not quotes.form_token_valid(
            current_app.config["SECRET_KEY"], tracking_token, version, request.form.get("token", "")[:128]):
        return render_tracking(found, 400, quote_message=_("This form is no longer valid. Please look at the "
                                                           "quote below and choose again."))
    try:
        quotes.decide(db.session, found.order.id, version, decision, via=quotes.VIA_LINK,
                      diagnostic_fee_minor=current_app.config["DIAGNOSTIC_FEE_MINOR"])
    except quotes.QuoteError as exc:
        db.session.rollback()
        return render_tracking(tracking.find(db.session, tracking_token), 409, quote_message=str(exc.message))
    db.session.commit()
    # POST/redirect/GET: the page then shows the decision; a reload does not post again.
    return redirect(url_for("tracking.track", tracking_token=tracking_token, _anchor="quote"), 303)


@bp.route("/<int:order_id>/quote-decision", methods=["POST"])
@roles_required(Role.FRONT_DESK)
def phone_decision(order_id: int):
    """The desk records the answer the customer gave by phone, with a note of what they said."""
    order = load_order(order_id)
    form = PhoneDecisionForm()
    version = whole_number(form.quote_version.data)
    if form.validate_on_submit() and version is not None:
        try:
            decision = quotes.decide(db.session, order.id, version, form.decision.data, via=quotes.VIA_PHONE,
                                     actor=acting_staff(), note=form.note.data,
                                     diagnostic_fee_minor=current_app.config["DIAGNOSTIC_FEE_MINOR"])
        except quotes.QuoteError as exc:
            db.session.rollback()
            if exc.field is None:  # the order moved on (decided, changed quote): show it as it is now
                flash(str(exc.message), "danger")
                return redirect(url_for("orders.detail", order_id=order_id) + "#quote")
            getattr(form, exc.field, form.decision).errors.append(str(exc.message))
        else:
            db.session.commit()
            flash(_("Quote approved.") if decision.decision == "approved" else _("Quote declined."), "success")
            return redirect(url_for("orders.detail", order_id=order_id) + "#quote")
    elif version is None and not form.decision.errors:
        form.decision.errors.append(_("The quote changed since this page was opened. Please look at the new quote."))
    return render_detail(load_order(order_id), phone_form=keep_form(PhoneDecisionForm, form), code=422)
