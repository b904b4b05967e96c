"""The whole customer list with consent flags and loyalty figures, for the shop's own use (a spreadsheet, a
mailing): one query with the figures as grouped subqueries, read in chunks so the download streams."""

from collections.abc import Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.customers.models import Customer
from crm.loyalty.models import Account, Tier
from crm.sales.models import Refund, Sale, SaleStatus

COLUMNS = ("id", "name", "phone", "email", "birthday", "language", "preferred_channel", "service_consent",
           "marketing_consent", "marketing_consent_at", "customer_since", "member", "member_since", "tier",
           "points_balance", "paid_sales", "paid_minor", "refunded_minor", "last_paid_at")


def rows(session: Session, *, yes: str = "yes", no: str = "no", chunk: int = 1000) -> Iterator[tuple]:
    """One tuple per customer, in id order (amounts in minor units, times in UTC ISO format, flags as the words
    given for yes and no)."""
    sales = (select(Sale.customer_id, func.count().label("paid_sales"), func.sum(Sale.total_minor).label("paid"),
                    func.max(Sale.paid_at).label("last_paid"))
             .where(Sale.status == SaleStatus.PAID, Sale.customer_id.is_not(None))
             .group_by(Sale.customer_id).subquery())
    refunds = (select(Sale.customer_id, func.sum(Refund.amount_minor).label("refunded"))
               .join(Sale, Sale.id == Refund.sale_id).where(Sale.customer_id.is_not(None))
               .group_by(Sale.customer_id).subquery())
    query = (select(Customer.id, Customer.name, Customer.phone, Customer.email, Customer.birthday, Customer.language,
                    Customer.preferred_channel, Customer.service_consent, Customer.marketing_consent,
                    Customer.marketing_consent_at, Customer.created_at, Account.customer_id.is_not(None),
                    Account.enrolled_at, Tier.name, Account.balance, func.coalesce(sales.c.paid_sales, 0),
                    func.coalesce(sales.c.paid, 0), func.coalesce(refunds.c.refunded, 0), sales.c.last_paid)
             .outerjoin(Account, Account.customer_id == Customer.id).outerjoin(Tier, Tier.id == Account.tier_id)
             .outerjoin(sales, sales.c.customer_id == Customer.id)
             .outerjoin(refunds, refunds.c.customer_id == Customer.id).order_by(Customer.id))
    for row in session.execute(query.execution_options(yield_per=chunk)):
        yield tuple(_cell(value, yes, no) for value in row)


def _cell(value, yes: str, no: str):
    if isinstance(value, bool):
        return yes if value else no
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return "" if value is None else value
