"""A small shop built by hand where every figure of March 2026 (Kyiv time) is known; see the comments."""

from datetime import UTC, datetime
from itertools import count

from crm.feedback.models import Feedback
from crm.loyalty import accounts, ledger
from crm.sales.models import Refund, Sale, SaleStatus
from tests import factories

_n = count(1)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def sale(session, customer, total: int, paid_at: datetime) -> Sale:
    n = next(_n)
    row = Sale(number=f"RS-{n}", status=SaleStatus.PAID, customer_id=customer.id if customer else None,
               subtotal_minor=total, total_minor=total, paid_minor=total, created_at=paid_at, paid_at=paid_at)
    session.add(row)
    session.flush()
    return row


def refund(session, sale_row: Sale, amount: int, created_at: datetime) -> Refund:
    n = next(_n)
    row = Refund(number=f"RRF-{n}", sale_id=sale_row.id, reason="test", method="cash", amount_minor=amount,
                 refund_key=f"rk-{n}", refund_digest="d", created_at=created_at)
    session.add(row)
    session.flush()
    return row


def rating(session, customer, stars: int, created_at: datetime) -> Feedback:
    row = Feedback(order_id=factories.order(customer).id, customer_id=customer.id, rating=stars,
                   created_at=created_at, updated_at=created_at, follow_up="open" if stars <= 2 else "none")
    session.add(row)
    session.flush()
    return row


def build(session) -> dict:
    """Program defaults: welcome 50, birthday 100, 1 point = 1.00 (100 minor units)."""
    run = next(_n)  # the shop can be built more than once (the statement-count test)
    a, b, c, d = (factories.customer(name=name) for name in ("Anna", "Boris", "Chris", "Dana"))
    # Dana: member since January (welcome 50 then), 30 points earned on 1 Feb that expire on 1 March,
    # +20 and -10 by hand and the birthday bonus in March; no sale: not active.
    account_d = accounts.enrol(session, d, now=at("2026-01-05T10:00"))
    ledger.credit(session, account_d, "earn", 30, key=f"earn:d-feb:{run}", now=at("2026-02-01T10:00"), expiry_months=1)
    ledger.expire_due(session, account_d, now=at("2026-03-02T10:00"))
    ledger.credit(session, account_d, "adjust", 20, key=f"adj:d+:{run}", now=at("2026-03-03T10:00"), expiry_months=12)
    ledger.debit(session, account_d, "adjust", 10, key=f"adj:d-:{run}", now=at("2026-03-04T10:00"))
    accounts.award_birthday_bonus(session, d, 2026, now=at("2026-03-07T10:00"))
    # Anna: member since 10 Feb; two sales in March (10000, 30000), earns 100 and 300, spends 40; 5000 of the
    # second sale refunded on 25 March and the 50 points it earned taken back. Rates 5 stars.
    account_a = accounts.enrol(session, a, now=at("2026-02-10T10:00"))
    sale(session, a, 10_000, at("2026-03-05T10:00"))
    ledger.credit(session, account_a, "earn", 100, key=f"earn:a1:{run}", now=at("2026-03-05T10:00"), expiry_months=12)
    second = sale(session, a, 30_000, at("2026-03-20T10:00"))
    ledger.debit(session, account_a, "redeem", 40, key=f"redeem:a2:{run}", now=at("2026-03-20T10:00"))
    ledger.credit(session, account_a, "earn", 300, key=f"earn:a2:{run}", now=at("2026-03-20T10:00"), expiry_months=12)
    refund(session, second, 5_000, at("2026-03-25T10:00"))
    ledger.reverse(session, account_a, restore=0, take_back=50, key=f"refund:a2:{run}", reference="refund", reason="r",
                   actor=None, now=at("2026-03-25T10:00"))
    rating(session, a, 5, at("2026-03-06T10:00"))
    # Boris: joins on 10 March (welcome 50). 20000 paid at 28 Feb 22:30 UTC = 1 March 00:30 in Kyiv: March;
    # 99900 paid at 31 March 21:30 UTC = 1 April 00:30 in Kyiv (summer time): not March.
    sale(session, b, 20_000, at("2026-02-28T22:30"))
    accounts.enrol(session, b, now=at("2026-03-10T10:00"))
    sale(session, b, 99_900, at("2026-03-31T21:30"))
    # Chris: not a member, one sale of 8000, rates 2 stars. A walk-in sale of 2000.
    sale(session, c, 8_000, at("2026-03-15T10:00"))
    rating(session, c, 2, at("2026-03-16T10:00"))
    sale(session, None, 2_000, at("2026-03-16T12:00"))
    session.flush()
    return {"a": a, "b": b, "c": c, "d": d}
