"""Erasing a customer (GDPR Art. 17): their personal data goes from every table, their money and points records
stay (accounting law) attached to the same, now anonymous, customer row.

What is removed: name, phone, e-mail, birthday, notes, language, Telegram chat and link codes; on their repairs
the serial number, IMEI, condition, accessories, problem and the notes of status changes and quote decisions; the
address and text of every message; feedback comments and the shop's follow-up notes. Their tracking, unsubscribe
and Telegram links stop working. What stays: every sale, line, payment, refund and points entry, unchanged; the
balance is forfeited with one ledger entry, personal coupons end now. The phone can then be registered again as a
new customer. Written to the change log (who and when, not what). Erasing twice does nothing the second time."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session

from crm.audit import record_change
from crm.auth.models import StaffUser
from crm.customers.consent import ERASURE, set_consents
from crm.customers.models import Customer, TelegramCode
from crm.errors import RuleError
from crm.feedback.models import Feedback
from crm.locales import lazy_gettext as _l
from crm.loyalty import ledger
from crm.loyalty.models import Coupon
from crm.notifications.models import OutboxMessage
from crm.orders.models import OrderStatusChange, QuoteDecision, RepairOrder
from crm.orders.service import new_tracking_token
from crm.orders.status import Status
from crm.sales.models import Sale, SaleStatus

FINISHED = (Status.PICKED_UP.value, Status.CANCELLED.value)


class EraseError(RuleError):
    pass


@dataclass(frozen=True)
class Erased:
    customer_id: int
    already: bool  # erased before: nothing done now
    points_forfeited: int


def refusal(session: Session, customer_id: int):
    """Why the customer cannot be erased now (a translatable message), or None."""
    if session.scalar(select(exists().where(RepairOrder.customer_id == customer_id,
                                            RepairOrder.status.not_in(FINISHED)))):
        return _l("The customer has a repair that is still open (the device is in the shop): finish it, "
                  "hand the device back or cancel the repair first.")
    if session.scalar(select(exists().where(Sale.customer_id == customer_id, Sale.status == SaleStatus.OPEN))):
        return _l("The customer has an unpaid bill: take the payment or discard the bill first.")
    return None


def erase(session: Session, customer: Customer, *, placeholder_name: str, actor: StaffUser | None,
          now: datetime) -> Erased:
    """Erase the customer's personal data; EraseError with the reason while a repair or a bill is open.
    ``placeholder_name`` is what the shop sees instead of the name ("Erased customer 42")."""
    if customer.erased_at is not None:
        return Erased(customer.id, already=True, points_forfeited=0)
    reason = refusal(session, customer.id)
    if reason is not None:
        raise EraseError(reason, field="confirm")
    forfeited = _forfeit_points(session, customer.id, actor, now)
    _erase_repairs(session, customer.id)
    _erase_messages(session, customer.id)
    session.execute(update(Feedback).where(Feedback.customer_id == customer.id)
                    .values(comment="", follow_up_note=""))
    session.execute(update(Coupon).where(Coupon.customer_id == customer.id, Coupon.valid_until > now)
                    .values(valid_until=now))
    session.execute(delete(TelegramCode).where(TelegramCode.customer_id == customer.id))
    set_consents(session, customer, {"service": False, "marketing": False}, source=ERASURE, actor=actor, now=now)
    _erase_profile(customer, placeholder_name, now)
    record_change(session, f"customer:{customer.id}", "personal data erased", "", "", actor, now)
    session.flush()
    return Erased(customer.id, already=False, points_forfeited=forfeited)


def _forfeit_points(session: Session, customer_id: int, actor: StaffUser | None, now: datetime) -> int:
    account = ledger.lock_account(session, customer_id)
    if account is None or account.balance <= 0:
        return 0
    points = account.balance
    ledger.debit(session, account, "adjust", points, key=f"erase:{customer_id}", actor=actor, now=now,
                 reason="Balance forfeited: the customer's personal data was erased",
                 reference=f"customer:{customer_id}")
    return points


def _erase_repairs(session: Session, customer_id: int) -> None:
    orders = select(RepairOrder.id).where(RepairOrder.customer_id == customer_id)
    for order in session.scalars(select(RepairOrder).where(RepairOrder.customer_id == customer_id)):
        order.serial_number, order.imei, order.condition, order.accessories, order.problem = "", "", "", "", ""
        order.tracking_token = new_tracking_token()  # the old link finds nothing; the new one was never given out
        order.search_text = " ".join(p.casefold() for p in (order.number, order.brand, order.model) if p)
    session.execute(update(OrderStatusChange).where(OrderStatusChange.order_id.in_(orders)).values(note=""))
    session.execute(update(QuoteDecision).where(QuoteDecision.order_id.in_(orders)).values(note=""))


def _erase_messages(session: Session, customer_id: int) -> None:
    mine = OutboxMessage.customer_id == customer_id
    session.execute(update(OutboxMessage).where(mine, OutboxMessage.status.in_(("pending", "failed")))
                    .values(status="skipped"))
    session.execute(update(OutboxMessage).where(mine).values(
        address="", subject="", body_text="", body_html=None, unsubscribe_url=None, last_error="", provider_id=None))


def _erase_profile(customer: Customer, placeholder_name: str, now: datetime) -> None:
    customer.name = placeholder_name
    customer.phone = f"erased-{customer.id}"  # unique and no phone number: the real one can be registered again
    customer.email = customer.birthday = customer.birthday_mmdd = customer.telegram_chat_id = None
    customer.language = None
    customer.notes = customer.search_text = ""
    customer.preferred_channel = "auto"
    customer.erased_at = now
