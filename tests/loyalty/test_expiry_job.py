"""The expiry job: every lot past its expiry is expired exactly once, whoever runs it and however often."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from crm.loyalty import accounts, jobs, ledger
from crm.loyalty.models import Account, LedgerEntry
from crm.loyalty.program import update_program
from tests import factories

START = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)


def test_the_expiry_job_expires_exactly_what_is_left_of_due_lots_once(session):
    update_program(session, {"welcome_bonus": 0}, actor=None)
    members = []
    for n in range(3):
        customer = factories.customer()
        account = accounts.enrol(session, customer, now=START)
        ledger.credit(session, account, "earn", 100, key=f"old:{n}", now=START, expiry_months=12)
        ledger.credit(session, account, "earn", 40, key=f"new:{n}", now=START + timedelta(days=200), expiry_months=12)
        members.append(customer.id)
    first = session.get(Account, members[0])
    ledger.debit(session, first, "redeem", 30, key="spent", now=START + timedelta(days=1))
    session.commit()

    after_a_year = START + timedelta(days=370)
    assert jobs.expire_points(session, now=after_a_year) == 3
    session.commit()
    assert jobs.expire_points(session, now=after_a_year) == 0

    expired = dict(session.execute(select(LedgerEntry.customer_id, func.sum(LedgerEntry.points))
                                   .where(LedgerEntry.kind == "expire").group_by(LedgerEntry.customer_id)).all())
    assert expired == {members[0]: -70, members[1]: -100, members[2]: -100}
    for customer_id in members:
        assert session.get(Account, customer_id).balance == 40 == session.scalar(
            select(func.sum(LedgerEntry.points)).where(LedgerEntry.customer_id == customer_id))
