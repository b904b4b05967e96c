"""crm.database: on PostgreSQL a transaction that only read ends with COMMIT, so psycopg keeps the statements it
prepared (on SQLite it still ends with a rollback); on both, one that wrote, took a savepoint or failed is rolled
back."""

import pytest
from sqlalchemy import event, select, text

from crm.customers.models import Customer
from crm.extensions import db
from tests import factories
from tests.conftest import IS_POSTGRES


def _prepared(conn) -> list[str]:
    return list(conn.scalars(text("SELECT statement FROM pg_prepared_statements")))


def _read_transactions(conn, times: int) -> None:
    for _ in range(times):
        conn.execute(select(Customer.id).where(Customer.phone == "+380671112233")).all()
        conn.rollback()


def test_statements_stay_prepared_across_read_only_transactions(app_ctx):
    commits = []

    def note_commit(connection):
        commits.append(connection)

    event.listen(db.engine, "commit", note_commit)
    try:
        with db.engine.connect() as conn:
            _read_transactions(conn, 6)  # psycopg prepares a statement on its fifth run
            if IS_POSTGRES:
                assert any("customers_customer.phone" in s for s in _prepared(conn))
            conn.rollback()
    finally:
        event.remove(db.engine, "commit", note_commit)
    assert commits == []  # asked to roll back: SQLAlchemy itself never commits (the COMMIT is psycopg's, below it)


def test_read_only_requests_leave_their_statements_prepared(app, auth):
    # No app context around the requests (as in production): each request ends its own transaction.
    with app.app_context():
        customer_id = factories.customer(name="Ірина Мороз").id
        db.session.commit()
        engine = db.engine
    auth.login("manager")
    runs: dict[int, list] = {}  # DBAPI connection id -> [connection, times it ran the account lookup]

    def note(conn, _cursor, statement, *_):
        if "FROM loyalty_account" in statement:
            dbapi_connection = conn.connection.dbapi_connection
            runs.setdefault(id(dbapi_connection), [dbapi_connection, 0])[1] += 1

    event.listen(engine, "after_cursor_execute", note)
    try:  # the pool hands its connections out in turn: go on until one of them ran the lookup six times
        for _ in range(60):
            assert auth.client.get(f"/customers/{customer_id}").status_code == 200
            if max(times for _, times in runs.values()) >= 6:
                break
    finally:
        event.remove(engine, "after_cursor_execute", note)
    dbapi_connection, times = max(runs.values(), key=lambda pair: pair[1])
    assert times >= 6
    if not IS_POSTGRES:  # SQLite: nothing to keep; the requests end with a plain rollback
        assert dbapi_connection.in_transaction is False
        return
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements", prepare=False)
        prepared = [row[0] for row in cursor.fetchall()]
    dbapi_connection.rollback()
    assert any("FROM loyalty_account" in s for s in prepared)


def test_a_transaction_that_wrote_is_still_rolled_back(app_ctx, make):
    customer_id = make.customer(name="Kept").id
    db.session.commit()  # and the session left alone after it: on SQLite its next read would hold the write lock
    with db.engine.connect() as conn:
        _read_transactions(conn, 6)
        conn.execute(text("UPDATE customers_customer SET name = 'Rolled back' WHERE id = :id"), {"id": customer_id})
        conn.rollback()
        assert conn.scalar(text("SELECT name FROM customers_customer WHERE id = :id"), {"id": customer_id}) == "Kept"
        conn.rollback()


def test_a_session_that_flushed_is_rolled_back_at_the_end_of_the_request(app, make):
    make.customer(name="Олена Ткач", phone="+380501112233")
    db.session.commit()
    with app.app_context():
        customer = db.session.scalar(select(Customer).where(Customer.phone == "+380501112233"))
        customer.name = "Changed and never committed"
        db.session.flush()
        db.session.remove()
    with app.app_context():
        assert db.session.scalar(select(Customer.name).where(Customer.phone == "+380501112233")) == "Олена Ткач"


def test_a_write_inside_a_released_savepoint_is_rolled_back_with_the_transaction(app_ctx, make):
    customer_id = make.customer(name="Kept").id
    db.session.commit()  # and the session left alone after it: on SQLite its next read would hold the write lock
    with db.engine.connect() as conn:
        _read_transactions(conn, 6)
        conn.execute(select(Customer.id)).all()
        with conn.begin_nested():
            conn.execute(text("UPDATE customers_customer SET name = 'Rolled back' WHERE id = :id"), {"id": customer_id})
        conn.rollback()
        assert conn.scalar(text("SELECT name FROM customers_customer WHERE id = :id"), {"id": customer_id}) == "Kept"
        conn.rollback()


def test_a_failed_statement_is_rolled_back_and_the_connection_works_again(app_ctx):
    with db.engine.connect() as conn:
        _read_transactions(conn, 6)
        with pytest.raises(Exception, match="no_such_table"):
            conn.execute(text("SELECT * FROM no_such_table"))
        conn.rollback()
        assert conn.scalar(text("SELECT 1")) == 1
        conn.rollback()


def test_a_row_locked_by_a_read_only_transaction_is_free_after_it(app_ctx, make):
    customer_id = make.customer(name="Locked").id
    db.session.commit()
    with db.engine.connect() as first, db.engine.connect() as second:
        first.execute(select(Customer.id).where(Customer.id == customer_id).with_for_update()).all()
        first.rollback()  # committed (it only read): the lock goes either way
        assert second.execute(select(Customer.id).where(Customer.id == customer_id)
                              .with_for_update(nowait=True)).scalar() == customer_id
        second.rollback()
