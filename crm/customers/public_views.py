"""Pages a customer reaches without logging in: the unsubscribe link of marketing messages,
and the Telegram webhook that links a chat when the customer sends the bot their /start code (or the linked
chat confirms a new one)."""

import hmac

from flask import Blueprint, abort, current_app, jsonify, render_template, request

from crm.auth.access import public
from crm.customers import contact, telegram
from crm.customers.forms import UnsubscribeForm
from crm.customers.models import Customer
from crm.extensions import csrf, db, limiter
from crm.notifications.channels import UPDATE_MAX_BYTES, MalformedUpdate, parse_update

public_bp = Blueprint("customer_public", __name__)


@public_bp.route("/u/<token>", methods=["GET", "POST"])
@public
@csrf.exempt  # the RFC 8058 one-click POST comes without a CSRF token; the page's own button carries one
@limiter.limit("30 per minute")
def unsubscribe(token: str):
    """Opening the link (GET, HEAD: what mail scanners do) only shows a page with one button; the button's
    POST, or a mail client's one-click POST ("List-Unsubscribe=One-Click"), turns marketing off."""
    link = contact.read_unsubscribe_token(token) if len(token) <= 200 else None
    customer = db.session.get(Customer, link.customer_id) if link is not None else None
    if customer is None or customer.erased_at is not None:
        return render_template("customers/unsubscribe.html", state="invalid"), 404
    if link.expired:
        return render_template("customers/unsubscribe.html", state="expired"), 410
    form = UnsubscribeForm()
    if request.method == "POST":
        one_click = request.form.get("List-Unsubscribe") == "One-Click"
        if not (one_click or form.validate_on_submit()):
            return render_template("customers/unsubscribe.html", state="confirm", form=form, retry=True), 400
        contact.unsubscribe(db.session, customer)
        db.session.commit()
        return render_template("customers/unsubscribe.html", state="done")
    state = "confirm" if customer.marketing_consent else "already"
    return render_template("customers/unsubscribe.html", state=state, form=form)


@public_bp.route("/telegram/webhook", methods=["POST"])
@public
@csrf.exempt  # Telegram's servers post here; they prove themselves with the secret token header
@limiter.limit("120 per minute")
def telegram_webhook():
    secret = current_app.config.get("TELEGRAM_WEBHOOK_SECRET") or ""
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not secret or not hmac.compare_digest(secret.encode(), given.encode()):
        abort(404)
    if (request.content_length or 0) > UPDATE_MAX_BYTES:
        return jsonify(ok=False, description="The body is too large for a Telegram update."), 413
    try:  # read one byte past the limit: a chunked body has no Content-Length to check first
        update = parse_update(request.stream.read(UPDATE_MAX_BYTES + 1))
    except MalformedUpdate as problem:
        return jsonify(ok=False, description=f"Not a Telegram update: {problem}."), 400
    telegram.receive_update(db.session, update)
    db.session.commit()
    return jsonify(ok=True)
