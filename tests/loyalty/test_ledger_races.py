"""Many desks spending one balance at once, for real (threads, own connections, real commits;
PostgreSQL when TEST_DATABASE_URL is set): never more than the balance, and one entry per key."""

from sqlalchemy import func, select

from crm.loyalty import accounts, ledger
from crm.loyalty.models import Account, LedgerEntry
from crm.loyalty.program import update_program
from tests import factories
from tests.factories.sales import run_at_once


def _member_with(session, points: int) -> int:
    update_program(session, {"welcome_bonus": 0}, actor=None)
    customer = factories.customer()
    account = accounts.enrol(session, customer)
    ledger.credit(session, account, "adjust", points, key=f"seed:{customer.id}", expiry_months=12)
    customer_id = customer.id
    session.commit()
    session.close()
    return customer_id


def redeeming(customer_id: int, points: int, key: str):
    def desk(session):
        account = ledger.lock_account(session, customer_id)
        return ledger.debit(session, account, "redeem", points, key=key).id
    return desk


def test_eight_parallel_redemptions_never_overspend_one_balance(app, session):
    customer_id = _member_with(session, 100)
    outcomes = run_at_once(app, *[redeeming(customer_id, 30, f"race:{n}") for n in range(8)])
    assert len([o for o in outcomes if isinstance(o, int)]) == 3
    assert all(isinstance(o, ledger.NotEnoughPoints) for o in outcomes if not isinstance(o, int))
    balance = session.scalar(select(Account.balance).where(Account.customer_id == customer_id))
    assert balance == 10 == session.scalar(select(func.sum(LedgerEntry.points))
                                           .where(LedgerEntry.customer_id == customer_id))


def test_the_same_redemption_sent_from_several_desks_at_once_posts_once(app, session):
    customer_id = _member_with(session, 100)
    outcomes = run_at_once(app, *[redeeming(customer_id, 40, "same-key") for _ in range(4)])
    assert len({o for o in outcomes if isinstance(o, int)}) == 1
    assert session.scalar(select(Account.balance).where(Account.customer_id == customer_id)) == 60
