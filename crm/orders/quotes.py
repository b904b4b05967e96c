"""Quote approval: the customer approves or declines the quote of a repair (its work and part lines) through
the tracking link, or by phone and the desk records it.

Rules:
- The quote has a version (RepairOrder.quote_version) that moves on with every line added or removed
  (crm.orders.service.quote_changed); a decision names the version it answers.
- A version is decided once (UNIQUE order + version, and the order's row lock): a second decision for the
  same version, whatever it says, changes nothing and returns the first. A decision for an older version
  (a stale page) is refused with QuoteError, and the caller shows the new quote.
- Approved: the order moves to the status the technician chose when asking (default "in repair").
  Declined: the device goes back unrepaired: the quoted lines come off the order (parts back to stock; the
  decision keeps the declined total), the diagnostic fee (if the shop charges one and the customer's tier
  does not give free diagnostics) becomes a "Diagnostics" work line that the checkout bills, and the order
  is ready for pickup. Neither changes the quote's version: the decision stands.
"""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from crm.auth.models import StaffUser
from crm.database import utcnow
from crm.errors import RuleError
from crm.locales import lazy_gettext as _l
from crm.loyalty.models import Account, Tier
from crm.orders.models import QuoteDecision, RepairOrder, RepairOrderLine
from crm.orders.service import record_status_change, take_line_off
from crm.orders.status import APPROVAL_TARGETS, DECLINED_TO, Status
from crm.orders.tracking import page_form_token, page_form_token_valid

DECISIONS = ("approved", "declined")
VIA_LINK, VIA_PHONE = "link", "phone"


class QuoteError(RuleError):
    pass


class StaleQuote(QuoteError):
    """The quote changed since the page the decision came from was loaded."""


@dataclass(frozen=True)
class Quote:
    version: int
    lines: list[RepairOrderLine]
    estimate_minor: int | None
    decision: QuoteDecision | None  # the decision for this version, if any

    @property
    def total_minor(self) -> int:
        return sum(line.total_minor for line in self.lines)

    @property
    def difference_minor(self) -> int | None:
        """How much the quote is above (positive) or below (negative) the estimate given at intake."""
        return None if self.estimate_minor is None else self.total_minor - self.estimate_minor


def decision_for(session: Session, order_id: int, version: int) -> QuoteDecision | None:
    return session.scalar(select(QuoteDecision).where(QuoteDecision.order_id == order_id,
                                                      QuoteDecision.quote_version == version))


def decision_among(decisions: list[QuoteDecision], version: int) -> QuoteDecision | None:
    """The decision on quote ``version`` among an order's decisions (decisions_of: at most one a version)."""
    return next((decision for decision in decisions if decision.quote_version == version), None)


_READ = object()


def current_quote(session: Session, order: RepairOrder, lines: list[RepairOrderLine] | None = None,
                  decision: QuoteDecision | None | object = _READ) -> Quote:
    """The order's quote as it stands: its lines, total, the estimate and the difference, and the decision
    taken on this very version (lines and decision are read here unless the caller has them)."""
    if lines is None:
        lines = list(session.scalars(select(RepairOrderLine).where(RepairOrderLine.order_id == order.id)
                                     .order_by(RepairOrderLine.id)))
    if decision is _READ:
        decision = decision_for(session, order.id, order.quote_version)
    return Quote(version=order.quote_version, lines=lines, estimate_minor=order.estimate_minor, decision=decision)


# Built once: the order page runs it on every visit.
_DECISIONS_OF = (select(QuoteDecision).where(QuoteDecision.order_id == bindparam("order_id"))
                 .options(joinedload(QuoteDecision.decided_by)).order_by(QuoteDecision.id.desc()))


def decisions_of(session: Session, order_id: int) -> list[QuoteDecision]:
    """Every decision taken on the order (all versions), newest first, with who recorded it."""
    return list(session.scalars(_DECISIONS_OF, {"order_id": order_id}))


def _lock(session: Session, order_id: int) -> RepairOrder | None:
    """The order re-read under its row lock (PostgreSQL; SQLite's BEGIN IMMEDIATE serialises writers)."""
    return session.scalar(select(RepairOrder).where(RepairOrder.id == order_id).with_for_update()
                          .execution_options(populate_existing=True))


def diagnostic_fee_for(session: Session, customer_id: int, fee_minor: int) -> int:
    """The shop's diagnostic fee, or nothing for a customer whose tier gives free diagnostics."""
    if fee_minor <= 0:
        return 0
    free = session.scalar(select(Tier.free_diagnostics).join(Account, Account.tier_id == Tier.id)
                          .where(Account.customer_id == customer_id))
    return 0 if free else fee_minor


def decide(session: Session, order_id: int, version: int, decision: str, *, via: str,
           actor: StaffUser | None = None, note: str = "", diagnostic_fee_minor: int = 0,
           now: datetime | None = None) -> QuoteDecision:
    """Record the customer's answer to version ``version`` of the order's quote and move the order on.

    ``via`` is "link" (the customer, ``actor`` None) or "phone" (``actor`` is the staff member who took the
    call; a note is required). Deciding a version already decided returns that first decision unchanged."""
    now = now or utcnow()
    if decision not in DECISIONS:
        raise QuoteError(_l("Choose approve or decline."), field="decision")
    if via not in (VIA_LINK, VIA_PHONE) or (via == VIA_PHONE) != (actor is not None):
        raise QuoteError(_l("A decision comes through the link or is recorded by staff."))
    note = (note or "").strip()
    if via == VIA_PHONE and not note:
        raise QuoteError(_l("Write down what the customer said."), field="note")
    order = _lock(session, order_id)
    if order is None:
        raise QuoteError(_l("This repair does not exist."))
    earlier = decision_for(session, order.id, version)
    if earlier is not None:
        return earlier
    if version != order.quote_version:
        raise StaleQuote(_l("The quote changed since this page was opened. Please look at the new quote."))
    if order.status != Status.AWAITING_APPROVAL:
        raise QuoteError(_l("This repair is not waiting for a decision on its quote."))
    lines = list(session.scalars(select(RepairOrderLine).where(RepairOrderLine.order_id == order.id)))
    record = QuoteDecision(order_id=order.id, quote_version=version, decision=decision, via=via,
                           total_minor=sum(line.total_minor for line in lines),
                           decided_by_id=actor.id if actor else None, decided_at=now, note=note)
    try:
        with session.begin_nested():
            session.add(record)
    except IntegrityError:  # the last line of defence: someone decided this version in the meantime
        return decision_for(session, order.id, version)
    _move_on(session, order, record, lines, actor=actor, diagnostic_fee_minor=diagnostic_fee_minor, now=now)
    return record


def _move_on(session: Session, order: RepairOrder, record: QuoteDecision, lines: list[RepairOrderLine], *,
             actor: StaffUser | None, diagnostic_fee_minor: int, now: datetime) -> None:
    by = _l("by the customer through the link") if record.via == VIA_LINK else _l("by phone")
    if record.decision == "approved":
        target = Status(order.approval_target) if order.approval_target in APPROVAL_TARGETS else Status.IN_REPAIR
        note = str(_l("Quote approved")) + " " + str(by)
    else:
        target = DECLINED_TO
        note = str(_l("Quote declined")) + " " + str(by)
        for line in lines:
            take_line_off(session, order, line, actor=actor)
        fee = diagnostic_fee_for(session, order.customer_id, diagnostic_fee_minor)
        if fee:
            # Not a change of the quote (the decision stands): the fee the checkout bills.
            session.add(RepairOrderLine(order_id=order.id, kind="labour", description=str(_l("Diagnostics")),
                                        quantity=1, unit_price_minor=fee,
                                        created_by_id=actor.id if actor else None, created_at=now))
    if record.note:
        note += ": " + record.note
    record_status_change(session, order, target, actor_id=actor.id if actor else None, note=note, now=now)


def form_token(secret_key: str | bytes, tracking_token: str, version: int) -> str:
    """The decision form's token: bound to the tracking token and to the quote version, so it stops working
    when the quote changes."""
    return page_form_token(secret_key, tracking_token, f"quote:{version}")


def form_token_valid(secret_key: str | bytes, tracking_token: str, version: int, given: str) -> bool:
    return page_form_token_valid(secret_key, tracking_token, f"quote:{version}", given)
