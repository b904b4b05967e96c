"""A customer with a row in every table that can hold a customer's data, and a personal value in every
free-text field the desk or the customer fills (the export and erase tests read them back)."""

from datetime import timedelta

from sqlalchemy import select

from crm.auth.models import Role
from crm.customers import telegram
from crm.database import utcnow
from crm.feedback.models import Feedback
from crm.loyalty import accounts
from crm.loyalty.models import Coupon, CouponTemplate, CouponUse, TierChange
from crm.notifications.models import OutboxMessage
from crm.orders.models import OrderStatusChange, QuoteDecision
from crm.sales import checkout, refunds
from crm.sales.loyalty import LoyaltyRequest
from crm.sales.models import SaleLine
from tests import factories
from tests.factories import sales as shop

IMEI = "356938035643809"


def personal_values(name: str, phone: str, email: str) -> list[str]:
    """Every personal value rich_customer stores for these inputs (what an erase must remove everywhere)."""
    tail = phone[-6:]
    return [name, phone, phone[3:], email, f"SN-{tail}", f"chat{tail}", f"Calls after six, {name}",
            f"Scratched lid, {name}", f"Ask {name} for the PIN", f"Granny's tablet {tail}", f"Owner {name} agreed",
            f"Phoned {name} back", f"Hello {name}", f"Your repair, {name}", f"Quick repair, {name}",
            f"Apologised to {name}"]


def rich_customer(session, name: str, phone: str, email: str):
    """A customer with a row in every table that can hold a customer's data."""
    manager, desk = shop.staff_member(session, Role.MANAGER), shop.staff_member(session, Role.FRONT_DESK)
    tail = phone[-6:]
    customer = factories.customer(name=name, phone=phone, email=email, marketing_consent=True,
                                  notes=f"Calls after six, {name}")
    customer.telegram_chat_id = f"chat{tail}"
    accounts.enrol(session, customer, actor=desk)
    accounts.adjust_points(session, customer, 500, reason="Goodwill", key=f"goodwill-{customer.id}", actor=manager)
    order = shop.ready_order(session, customer=customer)
    order.imei, order.serial_number = IMEI, f"SN-{tail}"
    order.condition, order.problem = f"Scratched lid, {name}", f"Ask {name} for the PIN"
    order.accessories = f"Granny's tablet {tail}"
    for change in session.scalars(select(OrderStatusChange).where(OrderStatusChange.order_id == order.id)):
        change.note = f"Phoned {name} back"
    sale = checkout.sale_for_repair(session, order.id, actor=desk)
    shop.pay(session, sale.id, actor=desk, loyalty=LoyaltyRequest(points=100))
    line = session.scalar(select(SaleLine).where(SaleLine.sale_id == sale.id))
    shop.give_back(session, sale.id, [refunds.RefundRequest(line.id, 1, restock=False)], actor=desk)
    now = utcnow()
    template = session.scalar(select(CouponTemplate)) or CouponTemplate(
        name="Export coupon", kind="percent", value=1000, categories="accessory", min_bill_minor=0, validity_days=30,
        active=True)
    session.add(template)
    session.flush()
    coupon = Coupon(code=f"EXP{phone[-6:]}", kind="personal", template_id=template.id, customer_id=customer.id,
                    valid_from=now, valid_until=now + timedelta(days=30))
    session.add(coupon)
    session.flush()
    session.add_all([
        CouponUse(coupon_id=coupon.id, customer_id=customer.id, reference=f"sale:{sale.id}", amount_minor=100),
        QuoteDecision(order_id=order.id, quote_version=1, decision="approved", via="phone", total_minor=120_000,
                      note=f"Owner {name} agreed"),
        Feedback(order_id=order.id, customer_id=customer.id, rating=2, comment=f"Quick repair, {name}",
                 follow_up="done", follow_up_note=f"Apologised to {name}"),
        TierChange(customer_id=customer.id, reason="export test"),
        OutboxMessage(event="welcome", kind="service", customer_id=customer.id, channel="email", address=email,
                      status="sent", attempts=1, subject=f"Your repair, {name}", body_text=f"Hello {name}"),
        OutboxMessage(event="order_ready", kind="service", customer_id=customer.id, channel="email",
                      address=email, status="pending", body_text=f"Hello {name}"),
    ])
    telegram.issue_code(session, customer.id)
    session.flush()
    return customer
