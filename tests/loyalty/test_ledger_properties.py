"""Property test of the points ledger: whatever sequence of earning, redeeming, refunds, expiry and manual
adjustments happens to a member, after every step (flushed, and again after the commit, read back from
the database) the books balance: balance == SUM(entries) >= 0, every lot's points - remaining ==
SUM(its uses), nothing is left in a lot past its expiry once expiry has run, and each operation moved
the balance by exactly what it should have.

Each hypothesis example gets a fresh customer (the tables are only emptied between tests), and every
idempotency key names that customer, so examples never see each other's rows."""

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy import func, select

from crm.auth.models import Role, StaffUser
from crm.loyalty import accounts, ledger
from crm.loyalty.ledger import NotEnoughPoints
from crm.loyalty.models import LedgerEntry
from crm.loyalty.program import update_program
from tests import factories
from tests.loyalty.test_ledger import assert_books_balance

START = datetime(2024, 11, 5, 9, 30, tzinfo=UTC)
_staff_numbers = itertools.count(1)


def spendable(session, customer_id: int, now: datetime) -> int:
    """What the member can spend at ``now``: the balance less the lots that will be expired first."""
    due = session.scalar(select(func.coalesce(func.sum(LedgerEntry.remaining), 0))
                         .where(LedgerEntry.customer_id == customer_id, LedgerEntry.remaining > 0,
                                LedgerEntry.expires_at <= now))
    return ledger.lock_account(session, customer_id).balance - due


def lots_past_expiry_with_points_left(session, customer_id: int, now: datetime) -> int:
    return session.scalar(select(func.count()).select_from(LedgerEntry)
                          .where(LedgerEntry.customer_id == customer_id, LedgerEntry.remaining > 0,
                                 LedgerEntry.expires_at <= now))


class Ledger(RuleBasedStateMachine):
    """One member's ledger under a random sequence of operations, each checked against what it should
    have done; the invariant reads the books back after every commit."""

    session = None  # the test's session, set by the test before the run

    def __init__(self):
        super().__init__()
        self.customer = factories.customer()
        self.customer_id = self.customer.id
        self.manager = StaffUser(username=f"ledger-manager-{next(_staff_numbers)}", full_name="Manager",
                                 role=Role.MANAGER, password_hash="!unusable")
        self.session.add(self.manager)
        accounts.enrol(self.session, self.customer, now=START)
        self.session.commit()
        self.now = START
        self.expired_through = START  # every lot expiring by then has been expired
        self.sales: list[tuple[str, int]] = []  # (earned lot key, points) of sales a refund can undo
        self.numbers = itertools.count(1)

    def key(self, what: str) -> str:
        return f"c{self.customer_id}:{what}:{next(self.numbers)}"

    def account(self):
        return ledger.lock_account(self.session, self.customer_id)

    def done(self, expected_balance: int) -> None:
        """Check the books inside the transaction, commit as a request would, then the invariants run."""
        assert assert_books_balance(self.session, self.customer_id) == expected_balance
        self.session.commit()
        self.expired_through = self.now

    @rule(points=st.integers(1, 500), months=st.sampled_from([0, 1, 2, 6, 12]))
    def earn(self, points, months):
        before = spendable(self.session, self.customer_id, self.now)
        key = self.key("sale") + ":earn"
        entry = ledger.credit(self.session, self.account(), "earn", points, key=key, reference="sale", now=self.now,
                              expiry_months=months)
        assert (entry.points, entry.remaining, entry.balance_after) == (points, points, before + points)
        self.sales.append((key, points))
        self.done(before + points)

    @rule(points=st.integers(1, 800))
    def redeem(self, points):
        before = spendable(self.session, self.customer_id, self.now)
        if points <= before:
            entry = ledger.debit(self.session, self.account(), "redeem", points, key=self.key("redeem"), now=self.now)
            assert entry.balance_after == before - points
            self.done(before - points)
        else:
            try:
                ledger.debit(self.session, self.account(), "redeem", points, key=self.key("redeem"), now=self.now)
            except NotEnoughPoints as refused:
                assert refused.balance == before
            else:
                raise AssertionError(f"spent {points} of {before} points")
            self.session.rollback()

    @precondition(lambda self: self.sales)
    @rule(data=st.data(), restore=st.integers(0, 300))
    def refund(self, data, restore):
        lot_key, earned = data.draw(st.sampled_from(self.sales))
        take_back = data.draw(st.integers(0, earned))
        before = spendable(self.session, self.customer_id, self.now)
        result = ledger.reverse(self.session, self.account(), restore=restore, take_back=take_back,
                                key=self.key("refund"), reference="refund", reason="Refund", actor=self.manager,
                                now=self.now, expiry_months=12, earned_lot_key=lot_key)
        taken = min(take_back, before + restore)
        assert result == ledger.Reversal(restored=restore, reversed=taken, shortfall=take_back - taken)
        self.done(before + restore - taken)

    @rule(days=st.integers(0, 400))
    def expire(self, days):
        self.now += timedelta(days=days)
        before = spendable(self.session, self.customer_id, self.now)
        ledger.expire_due(self.session, self.account(), now=self.now)
        assert lots_past_expiry_with_points_left(self.session, self.customer_id, self.now) == 0
        self.done(before)
        account = self.account()  # a second run, committed, finds nothing left to do
        assert ledger.expire_due(self.session, account, now=self.now) == []
        self.session.commit()

    @rule(days=st.integers(1, 200))
    def time_passes(self, days):
        """Time moves on without the expiry job: the next operation must expire what is due itself."""
        self.now += timedelta(days=days)

    @rule(points=st.integers(-400, 400).filter(bool))
    def adjust(self, points):
        before = spendable(self.session, self.customer_id, self.now)
        if points > 0 or -points <= before:
            entry = accounts.adjust_points(self.session, self.customer, points, reason="Correction",
                                           key=self.key("adjust"), actor=self.manager, now=self.now)
            assert (entry.kind, entry.points, entry.author_id) == ("adjust", points, self.manager.id)
            self.done(before + points)
        else:
            try:
                accounts.adjust_points(self.session, self.customer, points, reason="Correction",
                                       key=self.key("adjust"), actor=self.manager, now=self.now)
            except NotEnoughPoints:
                pass
            else:
                raise AssertionError(f"took {-points} of {before} points")
            self.session.rollback()

    @invariant()
    def books_balance_after_commit(self):
        self.session.expire_all()
        assert_books_balance(self.session, self.customer_id)
        assert lots_past_expiry_with_points_left(self.session, self.customer_id, self.expired_through) == 0
        others = self.session.scalar(select(func.count()).select_from(LedgerEntry)
                                .where(LedgerEntry.idempotency_key.like(f"c{self.customer_id}:%"),
                                       LedgerEntry.customer_id != self.customer_id))
        assert others == 0
        self.session.rollback()

    def teardown(self):
        self.session.rollback()


def test_any_sequence_of_ledger_operations_keeps_the_books_balanced(app, session):
    update_program(session, {"welcome_bonus": 0}, actor=None)
    session.commit()

    Ledger.session = session
    run_state_machine_as_test(Ledger, settings=settings(max_examples=40, stateful_step_count=25, deadline=None,
                                                        database=None, derandomize=False))
