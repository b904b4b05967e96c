"""The declarative base, column types shared by every module, and per-database connection set-up."""

from contextvars import ContextVar
from datetime import UTC, datetime

from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

# Stable constraint names: Alembic's SQLite batch mode recreates tables and needs them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Whether the next SQLite transaction may write. Jobs, the CLI and POST requests: yes (the default);
# create_app() turns it off for GET/HEAD requests so pages that only read do not queue for the lock.
sqlite_write_intent: ContextVar[bool] = ContextVar("sqlite_write_intent", default=True)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp on every database (SQLite hands back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def configure_engine(engine: Engine) -> None:
    """SQLite needs help to behave like a real database under concurrent writers.

    pysqlite's own transaction handling starts transactions lazily (and never for SELECT), so a
    read-check-write on a balance can double-spend; with ``isolation_level=None`` we emit
    ``BEGIN IMMEDIATE`` ourselves, which takes the write lock at the start of every transaction that
    may write. Read-only requests get a plain deferred ``BEGIN`` (a WAL snapshot, no lock).
    """
    if engine.dialect.name == "postgresql":
        _keep_prepared_statements(engine)
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE" if sqlite_write_intent.get() else "BEGIN")


_WROTE = "crm.transaction_wrote"


def _keep_prepared_statements(engine: Engine) -> None:
    """End a PostgreSQL transaction that only read with COMMIT instead of ROLLBACK.

    psycopg prepares a statement on the server once a connection has run it five times (no parsing, and
    PostgreSQL's cached plan, from then on), but it forgets every prepared statement on ROLLBACK. Flask-
    SQLAlchemy ends each request's transaction with a rollback, so nothing was ever prepared: every request
    paid for parsing and planning each statement again. For a transaction that ran nothing but SELECTs,
    COMMIT and ROLLBACK do the same (locks taken by FOR UPDATE are released either way), so such a
    transaction is committed here; psycopg's rollback then finds no transaction and keeps its statements.
    Anything else (a write, a savepoint, a statement that failed) still ends with a real ROLLBACK."""

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.info[_WROTE] = False

    @event.listens_for(engine, "before_cursor_execute")
    def _on_execute(connection, _cursor, statement, _parameters, _context, _executemany):
        if statement.lstrip()[:6].upper() != "SELECT":
            connection.info[_WROTE] = True

    @event.listens_for(engine, "handle_error")
    def _on_error(context):
        if context.connection is not None:
            context.connection.info[_WROTE] = True

    @event.listens_for(engine, "rollback")
    def _on_rollback(connection):
        if connection.info.pop(_WROTE, True):
            return
        dbapi_connection = connection.connection.dbapi_connection
        if dbapi_connection.info.transaction_status == dbapi_connection.info.transaction_status.INTRANS:
            dbapi_connection.commit()
