"""The points ledger (crm.loyalty.ledger): every change of a balance is an entry, keyed so it happens once,
spent from the lots oldest first, expired before it can be spent, and never below zero. Time is always
passed as ``now=``; nothing sleeps."""

from datetime import UTC, datetime, timedelta

import pytest
from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from crm.loyalty import accounts, ledger
from crm.loyalty.ledger import MAX_POINTS, LoyaltyError, NotEnoughPoints
from crm.loyalty.models import Account, LedgerEntry, LotUse
from crm.loyalty.program import update_program

START = datetime(2025, 3, 1, 10, 0, tzinfo=UTC)


def member(session, make, *, now=START) -> Account:
    """A member with an empty balance (no welcome bonus), locked for the test's transaction."""
    update_program(session, {"welcome_bonus": 0}, actor=None)
    return accounts.enrol(session, make.customer(), now=now)


def entries(session, customer_id: int) -> list[LedgerEntry]:
    return list(session.scalars(select(LedgerEntry).where(LedgerEntry.customer_id == customer_id)
                                .order_by(LedgerEntry.id).execution_options(populate_existing=True)))


def uses_of(session, entry: LedgerEntry) -> list[tuple[int, int]]:
    """(lot id, points) for each lot the negative entry took from, in the order it took them."""
    return [(u.lot_id, u.points) for u in session.scalars(select(LotUse).where(LotUse.entry_id == entry.id)
                                                         .order_by(LotUse.id))]


def stored_balance(session, customer_id: int) -> int:
    return session.scalar(select(Account.balance).where(Account.customer_id == customer_id))


def assert_books_balance(session, customer_id: int) -> int:
    """The ledger's invariants for one customer, read from the database; returns the balance.

    balance == SUM(points) == SUM(remaining of the lots) >= 0; each entry's balance_after is the running
    sum; every lot's points - remaining == SUM(its uses) with remaining within 0..points; and every
    negative entry took exactly its points from the lots."""
    session.flush()
    rows = entries(session, customer_id)
    balance = stored_balance(session, customer_id)
    assert balance >= 0
    assert balance == sum(e.points for e in rows)
    assert balance == sum(e.remaining for e in rows if e.points > 0)
    running = 0
    for e in rows:
        running += e.points
        assert e.balance_after == running, f"entry {e.id} ({e.kind}) says {e.balance_after}, not {running}"
    used = dict(session.execute(select(LotUse.lot_id, func.sum(LotUse.points)).group_by(LotUse.lot_id)
                                .where(LotUse.lot_id.in_([e.id for e in rows]))).all())
    taken = dict(session.execute(select(LotUse.entry_id, func.sum(LotUse.points)).group_by(LotUse.entry_id)
                                 .where(LotUse.entry_id.in_([e.id for e in rows]))).all())
    for e in rows:
        if e.points > 0:
            assert 0 <= e.remaining <= e.points
            assert e.points - e.remaining == used.get(e.id, 0), f"lot {e.id}"
            assert e.id not in taken
        else:
            assert e.remaining is None
            assert taken.get(e.id, 0) == -e.points, f"entry {e.id} ({e.kind}) took {taken.get(e.id)} from lots"
    return balance


# --- credit and debit -------------------------------------------------------------------------------------------

def test_a_credit_adds_a_lot_and_records_the_balance_after(session, make):
    account = member(session, make)
    first = ledger.credit(session, account, "earn", 120, key="sale:1:earn", reason="Sale S-1", reference="sale:1",
                          now=START, expiry_months=12)
    second = ledger.credit(session, account, "bonus", 30, key="bonus:1", now=START + timedelta(days=1))

    assert account.balance == 150 == stored_balance(session, account.customer_id)
    assert (first.kind, first.points, first.remaining, first.balance_after) == ("earn", 120, 120, 120)
    assert (first.reason, first.reference, first.created_at) == ("Sale S-1", "sale:1", START)
    assert first.expires_at == START + relativedelta(months=12)
    assert (second.points, second.balance_after, second.expires_at) == (30, 150, None)
    assert assert_books_balance(session, account.customer_id) == 150


def test_a_debit_takes_points_and_records_the_balance_after(session, make):
    account = member(session, make)
    ledger.credit(session, account, "earn", 100, key="sale:1:earn", now=START, expiry_months=12)
    spent = ledger.debit(session, account, "redeem", 40, key="sale:2:redeem", reference="sale:2",
                         now=START + timedelta(days=1))

    assert (spent.kind, spent.points, spent.remaining, spent.balance_after) == ("redeem", -40, None, 60)
    assert account.balance == 60 == stored_balance(session, account.customer_id)
    assert assert_books_balance(session, account.customer_id) == 60


def test_the_author_of_an_entry_is_recorded(session, make):
    manager = make.staff(role="manager")
    account = member(session, make)
    entry = ledger.credit(session, account, "adjust", 10, key="adjust:1", actor=manager, now=START)
    assert entry.author_id == manager.id


def test_posting_the_same_credit_key_again_returns_the_first_entry_and_changes_nothing(session, make):
    account = member(session, make)
    first = ledger.credit(session, account, "earn", 100, key="sale:1:earn", now=START, expiry_months=12)
    again = ledger.credit(session, account, "earn", 100, key="sale:1:earn", now=START + timedelta(days=3),
                          expiry_months=12)

    assert again.id == first.id
    assert account.balance == 100
    assert len(entries(session, account.customer_id)) == 1
    assert_books_balance(session, account.customer_id)


def test_posting_the_same_debit_key_again_returns_the_first_entry_and_changes_nothing(session, make):
    account = member(session, make)
    ledger.credit(session, account, "earn", 100, key="sale:1:earn", now=START)
    first = ledger.debit(session, account, "redeem", 30, key="sale:2:redeem", now=START)
    again = ledger.debit(session, account, "redeem", 30, key="sale:2:redeem", now=START)

    assert again.id == first.id
    assert account.balance == 70
    assert [e.points for e in entries(session, account.customer_id)] == [100, -30]
    assert session.scalar(select(func.count()).select_from(LotUse)) == 1
    assert_books_balance(session, account.customer_id)


def test_a_retried_redeem_is_answered_with_its_entry_even_after_the_balance_dropped(session, make):
    """The retry of a request that succeeded is not a new request: it is not checked against the
    balance again."""
    account = member(session, make)
    ledger.credit(session, account, "earn", 100, key="sale:1:earn", now=START)
    first = ledger.debit(session, account, "redeem", 80, key="sale:2:redeem", now=START)
    assert ledger.debit(session, account, "redeem", 80, key="sale:2:redeem", now=START).id == first.id
    assert account.balance == 20


@pytest.mark.parametrize("points, kind", [(101, "earn"), (100, "bonus")])
def test_the_same_credit_key_with_other_content_is_refused(session, make, points, kind):
    account = member(session, make)
    ledger.credit(session, account, "earn", 100, key="sale:1:earn", now=START)

    with pytest.raises(LoyaltyError) as refused:
        ledger.credit(session, account, kind, points, key="sale:1:earn", now=START)

    assert not isinstance(refused.value, NotEnoughPoints)
    assert account.balance == 100
    assert len(entries(session, account.customer_id)) == 1


def test_the_same_debit_key_with_other_points_is_refused(session, make):
    account = member(session, make)
    ledger.credit(session, account, "earn", 100, key="sale:1:earn", now=START)
    ledger.debit(session, account, "redeem", 30, key="sale:2:redeem", now=START)

    with pytest.raises(LoyaltyError):
        ledger.debit(session, account, "redeem", 31, key="sale:2:redeem", now=START)
    with pytest.raises(LoyaltyError):  # a credit's key cannot be reused for a debit either
        ledger.debit(session, account, "redeem", 100, key="sale:1:earn", now=START)

    assert account.balance == 70
    assert len(entries(session, account.customer_id)) == 2


def test_spending_more_than_the_balance_is_refused_and_changes_nothing(session, make):
    account = member(session, make)
    lot = ledger.credit(session, account, "earn", 50, key="sale:1:earn", now=START, expiry_months=12)

    with pytest.raises(NotEnoughPoints) as refused:
        ledger.debit(session, account, "redeem", 51, key="sale:2:redeem", now=START + timedelta(days=1))

    assert refused.value.balance == 50
    assert refused.value.field == "points"
    assert account.balance == 50 == stored_balance(session, account.customer_id)
    assert [e.id for e in entries(session, account.customer_id)] == [lot.id]
    assert lot.remaining == 50
    assert session.scalar(select(func.count()).select_from(LotUse)) == 0
    assert ledger.find_entry(session, "sale:2:redeem") is None


def test_an_empty_balance_cannot_be_spent(session, make):
    account = member(session, make)
    with pytest.raises(NotEnoughPoints):
        ledger.debit(session, account, "redeem", 1, key="sale:1:redeem", now=START)
    assert entries(session, account.customer_id) == []


@pytest.mark.parametrize("points", [0, -5, MAX_POINTS + 1])
def test_points_outside_the_allowed_range_are_refused(session, make, points):
    account = member(session, make)
    ledger.credit(session, account, "earn", 100, key="seed", now=START)
    with pytest.raises(LoyaltyError):
        ledger.credit(session, account, "earn", points, key="bad:credit", now=START)
    with pytest.raises(LoyaltyError):
        ledger.debit(session, account, "redeem", points, key="bad:debit", now=START)
    assert account.balance == 100


def test_a_kind_that_does_not_credit_or_debit_is_a_programming_error(session, make):
    account = member(session, make)
    with pytest.raises(ValueError):
        ledger.credit(session, account, "redeem", 10, key="k1", now=START)
    with pytest.raises(ValueError):
        ledger.debit(session, account, "earn", 10, key="k2", now=START)


def test_a_lot_expires_expiry_months_after_it_was_credited_and_never_when_expiry_is_off(session, make):
    account = member(session, make)
    credited = datetime(2025, 1, 31, 9, 0, tzinfo=UTC)
    short = ledger.credit(session, account, "earn", 10, key="k1", now=credited, expiry_months=1)
    never = ledger.credit(session, account, "earn", 10, key="k2", now=credited, expiry_months=0)
    assert short.expires_at == datetime(2025, 2, 28, 9, 0, tzinfo=UTC)  # calendar months, clamped
    assert never.expires_at is None


# --- lots: oldest first ---------------------------------------------------------------------------------------

def test_points_are_spent_oldest_lot_first(session, make):
    """Oldest means the lot that expires soonest; lots that never expire are spent last."""
    account = member(session, make)
    yearly = ledger.credit(session, account, "earn", 50, key="sale:1:earn", now=START, expiry_months=12)
    never = ledger.credit(session, account, "bonus", 30, key="bonus:1", now=START, expiry_months=0)
    quarterly = ledger.credit(session, account, "earn", 40, key="sale:2:earn", now=START + timedelta(days=10),
                              expiry_months=3)

    first = ledger.debit(session, account, "redeem", 60, key="sale:3:redeem", now=START + timedelta(days=20))
    assert uses_of(session, first) == [(quarterly.id, 40), (yearly.id, 20)]
    assert (quarterly.remaining, yearly.remaining, never.remaining) == (0, 30, 30)

    second = ledger.debit(session, account, "redeem", 50, key="sale:4:redeem", now=START + timedelta(days=21))
    assert uses_of(session, second) == [(yearly.id, 30), (never.id, 20)]
    assert (quarterly.remaining, yearly.remaining, never.remaining) == (0, 0, 10)
    assert assert_books_balance(session, account.customer_id) == 10


def test_lots_expiring_at_the_same_time_are_spent_in_the_order_they_were_credited(session, make):
    account = member(session, make)
    a = ledger.credit(session, account, "earn", 10, key="a", now=START, expiry_months=12)
    b = ledger.credit(session, account, "earn", 10, key="b", now=START, expiry_months=12)
    c = ledger.credit(session, account, "bonus", 10, key="c", now=START, expiry_months=0)
    d = ledger.credit(session, account, "bonus", 10, key="d", now=START, expiry_months=0)
    spent = ledger.debit(session, account, "redeem", 35, key="spend", now=START)
    assert uses_of(session, spent) == [(a.id, 10), (b.id, 10), (c.id, 10), (d.id, 5)]


# --- expiry -------------------------------------------------------------------------------------------------

def test_expired_points_are_expired_before_a_debit_and_cannot_be_spent(session, make):
    account = member(session, make)
    old = ledger.credit(session, account, "earn", 70, key="sale:1:earn", now=START, expiry_months=1)
    new = ledger.credit(session, account, "earn", 20, key="sale:2:earn", now=START + timedelta(days=20),
                        expiry_months=12)
    later = START + timedelta(days=45)  # the first lot expired on 1 April; the expiry job has not run

    with pytest.raises(NotEnoughPoints) as refused:
        ledger.debit(session, account, "redeem", 50, key="sale:3:redeem", now=later)
    assert refused.value.balance == 20

    spent = ledger.debit(session, account, "redeem", 20, key="sale:4:redeem", now=later)
    assert uses_of(session, spent) == [(new.id, 20)]
    expired = [e for e in entries(session, account.customer_id) if e.kind == "expire"]
    assert [(e.points, e.reference, e.idempotency_key) for e in expired] == [(-70, f"lot:{old.id}",
                                                                              f"expire:lot:{old.id}")]
    assert expired[0].created_at == old.expires_at
    assert uses_of(session, expired[0]) == [(old.id, 70)]
    assert old.remaining == 0
    assert assert_books_balance(session, account.customer_id) == 0


def test_only_what_is_left_of_a_lot_expires(session, make):
    account = member(session, make)
    lot = ledger.credit(session, account, "earn", 100, key="sale:1:earn", now=START, expiry_months=1)
    ledger.debit(session, account, "redeem", 35, key="sale:2:redeem", now=START + timedelta(days=5))

    done = ledger.expire_due(session, account, now=START + relativedelta(months=1))

    assert [(e.kind, e.points, e.idempotency_key, e.balance_after) for e in done] == [
        ("expire", -65, f"expire:lot:{lot.id}", 0)]
    assert account.balance == 0
    assert assert_books_balance(session, account.customer_id) == 0


def test_each_expired_lot_gets_its_own_expire_entry(session, make):
    account = member(session, make)
    a = ledger.credit(session, account, "earn", 10, key="a", now=START, expiry_months=1)
    b = ledger.credit(session, account, "earn", 20, key="b", now=START + timedelta(days=3), expiry_months=1)
    keep = ledger.credit(session, account, "bonus", 5, key="c", now=START, expiry_months=0)

    done = ledger.expire_due(session, account, now=START + timedelta(days=90))

    assert [(e.idempotency_key, e.points, e.balance_after) for e in done] == [
        (f"expire:lot:{a.id}", -10, 25), (f"expire:lot:{b.id}", -20, 5)]
    assert keep.remaining == 5
    assert assert_books_balance(session, account.customer_id) == 5


def test_a_lot_is_still_spendable_until_its_expiry_and_not_at_it(session, make):
    account = member(session, make)
    lot = ledger.credit(session, account, "earn", 10, key="a", now=START, expiry_months=1)
    assert ledger.expire_due(session, account, now=lot.expires_at - timedelta(seconds=1)) == []
    assert [e.points for e in ledger.expire_due(session, account, now=lot.expires_at)] == [-10]


def test_expiring_twice_does_nothing_the_second_time(session, make):
    account = member(session, make)
    ledger.credit(session, account, "earn", 10, key="a", now=START, expiry_months=1)
    later = START + timedelta(days=60)
    assert len(ledger.expire_due(session, account, now=later)) == 1
    session.commit()

    account = ledger.lock_account(session, account.customer_id)
    assert ledger.expire_due(session, account, now=later) == []
    assert ledger.expire_due(session, account, now=later + timedelta(days=400)) == []
    assert [e.kind for e in entries(session, account.customer_id)] == ["earn", "expire"]
    assert assert_books_balance(session, account.customer_id) == 0


def test_a_credit_expires_due_lots_first(session, make):
    account = member(session, make)
    ledger.credit(session, account, "earn", 10, key="a", now=START, expiry_months=1)
    new = ledger.credit(session, account, "earn", 7, key="b", now=START + timedelta(days=60), expiry_months=1)
    assert new.balance_after == 7
    assert [e.kind for e in entries(session, account.customer_id)] == ["earn", "expire", "earn"]
    assert assert_books_balance(session, account.customer_id) == 7


# --- reversal (a refund) -------------------------------------------------------------------------------------

def test_a_reversal_restores_spent_points_and_takes_back_earned_ones(session, make):
    account = member(session, make)
    ledger.credit(session, account, "earn", 200, key="sale:1:earn", now=START, expiry_months=12)
    ledger.debit(session, account, "redeem", 50, key="sale:2:redeem", now=START)
    ledger.credit(session, account, "earn", 30, key="sale:2:earn", now=START, expiry_months=12)

    result = ledger.reverse(session, account, restore=50, take_back=30, key="refund:1", reference="refund:1",
                            reason="Refund RF-1", actor=None, now=START + timedelta(days=2), expiry_months=12,
                            earned_lot_key="sale:2:earn")

    assert result == ledger.Reversal(restored=50, reversed=30, shortfall=0)
    assert account.balance == 200
    restore, take_back = entries(session, account.customer_id)[-2:]
    assert (restore.kind, restore.points, restore.idempotency_key, restore.reference) == (
        "reversal", 50, "refund:1:restore", "refund:1")
    assert restore.expires_at == START + timedelta(days=2) + relativedelta(months=12)
    assert (take_back.kind, take_back.points, take_back.idempotency_key, take_back.unrecovered) == (
        "reversal", -30, "refund:1:take_back", 0)
    assert assert_books_balance(session, account.customer_id) == 200


def test_a_reversal_takes_back_the_lot_its_sale_earned_first(session, make):
    account = member(session, make)
    older = ledger.credit(session, account, "bonus", 100, key="bonus:1", now=START, expiry_months=1)
    earned = ledger.credit(session, account, "earn", 40, key="sale:7:earn", now=START, expiry_months=12)

    ledger.reverse(session, account, restore=0, take_back=60, key="refund:1", reference="refund:1", reason="Refund",
                   actor=None, now=START + timedelta(days=1), earned_lot_key="sale:7:earn")

    take_back = ledger.find_entry(session, "refund:1:take_back")
    assert uses_of(session, take_back) == [(earned.id, 40), (older.id, 20)]
    assert assert_books_balance(session, account.customer_id) == 80


def test_a_reversal_of_points_already_spent_stops_at_zero_and_returns_the_shortfall(session, make):
    account = member(session, make)
    ledger.credit(session, account, "earn", 100, key="sale:1:earn", now=START, expiry_months=12)
    ledger.debit(session, account, "redeem", 80, key="sale:2:redeem", now=START)

    result = ledger.reverse(session, account, restore=0, take_back=100, key="refund:1", reference="refund:1",
                            reason="Refund", actor=None, now=START, earned_lot_key="sale:1:earn")

    assert result == ledger.Reversal(restored=0, reversed=20, shortfall=80)
    assert account.balance == 0
    take_back = ledger.find_entry(session, "refund:1:take_back")
    assert (take_back.points, take_back.unrecovered, take_back.balance_after) == (-20, 80, 0)
    assert assert_books_balance(session, account.customer_id) == 0


def test_a_reversal_counts_restored_points_before_taking_back(session, make):
    account = member(session, make)
    ledger.credit(session, account, "earn", 40, key="sale:1:earn", now=START, expiry_months=12)
    ledger.debit(session, account, "redeem", 40, key="sale:9:redeem", now=START)  # spent elsewhere

    result = ledger.reverse(session, account, restore=25, take_back=40, key="refund:1", reference="refund:1",
                            reason="Refund", actor=None, now=START, expiry_months=12, earned_lot_key="sale:1:earn")

    assert result == ledger.Reversal(restored=25, reversed=25, shortfall=15)
    assert ledger.find_entry(session, "refund:1:take_back").unrecovered == 15
    assert assert_books_balance(session, account.customer_id) == 0


def test_a_reversal_with_nothing_left_takes_nothing_and_returns_the_whole_shortfall(session, make):
    account = member(session, make)
    ledger.credit(session, account, "earn", 40, key="sale:1:earn", now=START, expiry_months=12)
    ledger.debit(session, account, "redeem", 40, key="sale:2:redeem", now=START)

    result = ledger.reverse(session, account, restore=0, take_back=40, key="refund:1", reference="refund:1",
                            reason="Refund", actor=None, now=START, earned_lot_key="sale:1:earn")

    assert result == ledger.Reversal(restored=0, reversed=0, shortfall=40)
    assert ledger.find_entry(session, "refund:1:take_back") is None  # points <> 0: no entry to record it on
    assert assert_books_balance(session, account.customer_id) == 0


def test_a_reversal_does_not_take_back_points_that_expired(session, make):
    account = member(session, make)
    ledger.credit(session, account, "earn", 40, key="sale:1:earn", now=START, expiry_months=1)
    ledger.credit(session, account, "bonus", 10, key="bonus:1", now=START, expiry_months=0)

    result = ledger.reverse(session, account, restore=0, take_back=40, key="refund:1", reference="refund:1",
                            reason="Refund", actor=None, now=START + timedelta(days=40), earned_lot_key="sale:1:earn")

    assert result == ledger.Reversal(restored=0, reversed=10, shortfall=30)
    assert assert_books_balance(session, account.customer_id) == 0


def test_a_reversal_posted_twice_changes_nothing_the_second_time(session, make):
    account = member(session, make)
    ledger.credit(session, account, "earn", 120, key="sale:1:earn", now=START, expiry_months=12)
    first = ledger.reverse(session, account, restore=10, take_back=50, key="refund:1", reference="refund:1",
                           reason="Refund", actor=None, now=START, expiry_months=12, earned_lot_key="sale:1:earn")
    ledger.debit(session, account, "redeem", 60, key="sale:2:redeem", now=START)  # balance now 20

    again = ledger.reverse(session, account, restore=10, take_back=50, key="refund:1", reference="refund:1",
                           reason="Refund", actor=None, now=START, expiry_months=12, earned_lot_key="sale:1:earn")

    assert again == first == ledger.Reversal(restored=10, reversed=50, shortfall=0)
    assert account.balance == 20
    assert [e.points for e in entries(session, account.customer_id)] == [120, 10, -50, -60]
    assert assert_books_balance(session, account.customer_id) == 20


# --- the balance never goes below zero ---------------------------------------------------------------------------

def test_the_database_refuses_a_negative_balance(session, make):
    account = member(session, make)
    customer_id = account.customer_id
    session.commit()
    with pytest.raises(IntegrityError):
        session.execute(update(Account).where(Account.customer_id == customer_id).values(balance=-1))
    session.rollback()
    assert stored_balance(session, customer_id) == 0


def test_the_database_refuses_an_entry_that_leaves_a_negative_balance(session, make):
    account = member(session, make)
    customer_id = account.customer_id
    session.commit()
    session.add(LedgerEntry(customer_id=customer_id, kind="adjust", points=-5, balance_after=-5,
                            idempotency_key="forged", created_at=START))
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()
    assert entries(session, customer_id) == []


def test_a_reversal_with_a_shortfall_posted_again_answers_the_same_after_new_points_arrive(session, make):
    account = member(session, make)
    ledger.credit(session, account, "earn", 100, key="sale:1:earn", now=START, expiry_months=12)
    ledger.debit(session, account, "redeem", 70, key="sale:2:redeem", now=START)
    first = ledger.reverse(session, account, restore=0, take_back=100, key="refund:1", reference="refund:1",
                           reason="Refund", actor=None, now=START, earned_lot_key="sale:1:earn")
    ledger.credit(session, account, "earn", 500, key="sale:3:earn", now=START, expiry_months=12)

    again = ledger.reverse(session, account, restore=0, take_back=100, key="refund:1", reference="refund:1",
                           reason="Refund", actor=None, now=START, earned_lot_key="sale:1:earn")

    assert again == first == ledger.Reversal(restored=0, reversed=30, shortfall=70)
    assert assert_books_balance(session, account.customer_id) == 500
