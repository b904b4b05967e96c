"""The quote section of the customer's tracking page (templates/orders/_tracking_quote.html): shown while the
repair awaits approval (the quote with Approve / Decline) and, once decided, the decision."""

from dataclasses import dataclass

from flask import current_app

from crm.extensions import db
from crm.orders import quotes
from crm.orders.status import Status


@dataclass(frozen=True)
class QuoteSection:
    quote: quotes.Quote
    awaiting: bool  # the buttons are shown
    form_token: str  # the CSRF token of the buttons' form, bound to the tracking token and the version
    fee_minor: int  # what declining costs this customer


def section(found) -> dict:
    """``quote`` for the template: None when the repair neither awaits approval nor has a decision."""
    if found is None:
        return {"quote": None}
    order = found.order
    quote = quotes.current_quote(db.session, order, found.lines, found.quote_decision)
    awaiting = order.status == Status.AWAITING_APPROVAL and quote.decision is None
    if not awaiting and quote.decision is None:
        return {"quote": None}
    token = quotes.form_token(current_app.config["SECRET_KEY"], order.tracking_token, quote.version)
    fee = quotes.diagnostic_fee_for(db.session, order.customer_id, current_app.config["DIAGNOSTIC_FEE_MINOR"]) \
        if awaiting else 0
    return {"quote": QuoteSection(quote=quote, awaiting=awaiting, form_token=token, fee_minor=fee)}
