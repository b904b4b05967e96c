"""The customer's view of a repair, reached through the private link on the receipt and in every
message (/t/<tracking token>). It shows what the customer needs and nothing staff-only: no notes, no
staff names, no serial number or IMEI, no phone number."""

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, bindparam, select
from sqlalchemy.orm import Session

from crm.customers.models import Customer
from crm.links import public_url
from crm.loading import attach
from crm.orders.models import OrderStatusChange, QuoteDecision, RepairOrder, RepairOrderLine
from crm.orders.queries import LINES_OF_ORDER
from crm.orders.status import Status
from crm.shop_time import local_date

PATH = "/t/"  # the page's address is PATH + the token: the route, receipts and messages all build it from here

# Tokens are 32 characters of the URL-safe alphabet; anything else is not one of ours and never reaches the
# database (PostgreSQL refuses a NUL byte in a text parameter outright).
TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")

# The road a repair usually travels, shown as steps; side roads (awaiting approval or parts) and the end
# of the road (cancelled) are shown as the current step's own words.
STEPS = (Status.RECEIVED, Status.DIAGNOSING, Status.IN_REPAIR, Status.READY, Status.PICKED_UP)
STEP_OF = {Status.AWAITING_APPROVAL: Status.DIAGNOSING, Status.AWAITING_PARTS: Status.IN_REPAIR}


def page_form_token(secret_key: str | bytes, tracking_token: str, purpose: str) -> str:
    """The CSRF token of a form on the customer's page (a quote decision, a rating): an HMAC of the form's
    purpose and the tracking token under SECRET_KEY. The page sets no session cookie (messengers' in-app browsers
    drop them), so the token is bound to the page instead; it cannot be made without the key."""
    key = secret_key.encode() if isinstance(secret_key, str) else secret_key
    return hmac.new(key, f"{purpose}:{tracking_token}".encode(), hashlib.sha256).hexdigest()


def page_form_token_valid(secret_key: str | bytes, tracking_token: str, purpose: str, given: str | None) -> bool:
    # Bytes: compare_digest refuses str with non-ASCII characters, which a forged form may carry.
    return hmac.compare_digest(page_form_token(secret_key, tracking_token, purpose).encode(),
                               (given or "").encode("utf-8", "surrogatepass"))


def tracking_link(token: str) -> str:
    """The customer's private link to their repair: the QR code on receipts and the link in every repair message."""
    return public_url(PATH + token)


@dataclass(frozen=True)
class Tracking:
    order: RepairOrder
    lines: list[RepairOrderLine]
    history: list[tuple[str, datetime]]  # (status, when), oldest first
    language: str | None
    warranty_until: date | None
    quote_decision: QuoteDecision | None = None  # the decision on the current quote version (crm.orders.quotes)

    @property
    def status(self) -> Status:
        return Status(self.order.status)

    @property
    def step(self) -> int | None:
        """Index of the current step in STEPS, None for a cancelled repair."""
        current = STEP_OF.get(self.status, self.status)
        return STEPS.index(current) if current in STEPS else None

    @property
    def total_minor(self) -> int:
        return sum(line.total_minor for line in self.lines)


def warranty_until(closed_at: datetime | None, warranty_days: int) -> date | None:
    """The last day of a repair's warranty: ``warranty_days`` after the (shop's) day it was picked up; None while
    it is not picked up or when it has no warranty. The page shows it and the warranty reminder is counted from
    it (crm.orders.reminders)."""
    if closed_at is None or not warranty_days:
        return None
    return local_date(closed_at) + timedelta(days=warranty_days)


# The page's statements, built once (crm.loading: the collections without selectinload).
_BY_TOKEN = (select(RepairOrder, Customer.language, QuoteDecision)
             .join(Customer, Customer.id == RepairOrder.customer_id)
             .outerjoin(QuoteDecision, and_(QuoteDecision.order_id == RepairOrder.id,
                                            QuoteDecision.quote_version == RepairOrder.quote_version))
             .where(RepairOrder.tracking_token == bindparam("token")))
_HISTORY = (select(OrderStatusChange).where(OrderStatusChange.order_id == bindparam("order_id"))
            .order_by(OrderStatusChange.id))


def find(session: Session, token: str) -> Tracking | None:
    """The repair whose tracking token is ``token`` (unique index), its lines and status history, in
    three queries; None for a token that is not one of ours."""
    if not TOKEN.fullmatch(token or ""):
        return None
    row = session.execute(_BY_TOKEN, {"token": token}).first()
    if row is None:
        return None
    order, language, quote_decision = row
    attach(order, "lines", session.scalars(LINES_OF_ORDER, {"order_id": order.id}), back="order")
    attach(order, "history", session.scalars(_HISTORY, {"order_id": order.id}), back="order")
    changes = sorted(order.history, key=lambda change: (change.changed_at, change.id))
    history = [(change.to_status, change.changed_at) for change in changes]
    picked_up = order.status == Status.PICKED_UP
    return Tracking(order=order, lines=sorted(order.lines, key=lambda line: line.id), history=history,
                    language=language, quote_decision=quote_decision,
                    warranty_until=warranty_until(order.closed_at, order.warranty_days) if picked_up else None)
