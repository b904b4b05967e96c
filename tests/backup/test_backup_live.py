"""A backup taken while desks check out (threads, own connections, real commits on a SQLite file) is a consistent
copy: it passes the integrity check, every balance in it equals the sum of that customer's ledger entries, it holds
exactly the checkouts committed before it was taken or during it, and the app reads it after a restore."""

import sqlite3
import threading
import time
from contextlib import closing
from datetime import UTC, datetime

from sqlalchemy import func, select

from crm.auth.models import Role, StaffUser
from crm.backup import sqlite as backup
from crm.extensions import db
from crm.loyalty import accounts, ledger
from crm.loyalty.models import Account, LedgerEntry
from crm.loyalty.program import update_program
from crm.sales import checkout
from crm.sales.loyalty import LoyaltyRequest
from crm.sales.models import Sale, SaleStatus
from tests import factories
from tests.backup.conftest import close
from tests.factories.sales import new_item, pay, run_at_once, staff_member

DESKS, SALES_PER_DESK, CUSTOMERS = 4, 5, 3


def _shop_with_open_bills(session) -> tuple[list[int], list[list[int]]]:
    """Members with points, and per desk a staff member and the bills it will check out (spread over the
    customers, so desks cross on the same balances)."""
    update_program(session, {"welcome_bonus": 0}, actor=None)
    customers = []
    for n in range(CUSTOMERS):
        customer = factories.customer()
        ledger.credit(session, accounts.enrol(session, customer), "adjust", 1_000, key=f"seed:{n}", expiry_months=12)
        customers.append(customer)
    case = new_item(session, price_minor=20_000, on_hand=100)
    staff, bills = [], []
    for desk in range(DESKS):
        staff.append(staff_member(session, Role.FRONT_DESK).id)
        bills.append([])
        for n in range(SALES_PER_DESK):
            sale = checkout.open_sale(session, actor=None, customer=customers[(desk + n) % CUSTOMERS])
            checkout.add_item(session, sale, case, 1)
            bills[desk].append(sale.id)
    session.commit()
    return staff, bills


def _books(path) -> tuple[list[tuple[int, int, int]], int]:
    """(customer, cached balance, sum of entries) per account and the number of paid sales, read with plain SQLite."""
    with closing(sqlite3.connect(path)) as conn:
        balances = conn.execute(
            "SELECT a.customer_id, a.balance, (SELECT COALESCE(SUM(e.points), 0) FROM loyalty_ledger_entry e "
            "WHERE e.customer_id = a.customer_id) FROM loyalty_account a ORDER BY a.customer_id").fetchall()
        paid = conn.execute("SELECT COUNT(*) FROM orders_sale WHERE status = 'paid'").fetchone()[0]
    return balances, paid


def test_a_backup_taken_while_desks_check_out_is_consistent_and_restores(shop, database, tmp_path):
    with shop.app_context():
        staff, bills = _shop_with_open_bills(db.session)
        db.session.remove()
    paid: list[int] = []
    backup_started = threading.Event()
    copy = tmp_path / "during.sqlite3"

    def desk(staff_id: int, sale_ids: list[int]):
        def run(session):
            for n, sale_id in enumerate(sale_ids):
                if n == len(sale_ids) - 1:
                    backup_started.wait(30)  # every desk still has a checkout to do once the backup starts
                pay(session, sale_id, actor=session.get(StaffUser, staff_id), loyalty=LoyaltyRequest(points=20))
                session.commit()
                paid.append(sale_id)
        return run

    def backing_up(session):
        deadline = time.monotonic() + 30
        while len(paid) < DESKS and time.monotonic() < deadline:  # some checkouts done, others on their way
            time.sleep(0.005)
        before = len(paid)
        backup_started.set()
        backup.write_backup(database, copy)
        return before, len(paid)

    *_, (paid_before, paid_after) = run_at_once(shop, *[desk(s, b) for s, b in zip(staff, bills, strict=True)],
                                                backing_up)

    assert DESKS <= paid_before < DESKS * SALES_PER_DESK
    assert backup.integrity_problems(copy) == []
    balances, paid_in_copy = _books(copy)
    assert len(balances) == CUSTOMERS and all(balance == total >= 0 for _, balance, total in balances)
    assert paid_before <= paid_in_copy <= paid_after
    assert len(paid) == DESKS * SALES_PER_DESK

    close(shop)
    restored = backup.restore(database, copy, _migrations(shop), now=datetime.now(UTC))
    assert restored.before_restore is not None and _books(restored.before_restore)[1] == DESKS * SALES_PER_DESK
    with shop.app_context():
        session = db.session
        assert session.scalar(select(func.count()).select_from(Sale).where(Sale.status == SaleStatus.PAID)) \
            == paid_in_copy
        for customer_id, balance, _ in balances:
            assert session.scalar(select(Account.balance).where(Account.customer_id == customer_id)) == balance \
                == session.scalar(select(func.sum(LedgerEntry.points)).where(LedgerEntry.customer_id == customer_id))


def _migrations(app) -> backup.Migrations:
    with app.app_context():
        return backup.app_migrations()
