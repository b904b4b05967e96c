"""Shared fixtures: one app per test run on a migrated database, emptied after every test.

The database is PostgreSQL when TEST_DATABASE_URL is set (CI starts a real server), otherwise a
temporary SQLite file (a file, not :memory:, so several connections and threads share it)."""

import itertools
import os
import re
import tempfile
from contextlib import contextmanager

import pytest
from argon2 import PasswordHasher
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from flask_migrate import upgrade
from sqlalchemy import event, text

from crm import create_app
from crm.extensions import babel, db
from tests import factories

DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "")
IS_POSTGRES = DATABASE_URL.startswith("postgresql")
_logins = itertools.count(1)


# The rows the migrations seed (item categories, default tiers, ...), read after upgrading: every test starts
# from a database as a fresh install has it.
_SEEDED: dict[str, list[dict]] = {}


def _reset_schema(app) -> None:
    with app.app_context():
        if IS_POSTGRES:
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        db.session.remove()
        with db.engine.connect() as conn:
            for table in db.metadata.sorted_tables:
                rows = [dict(row) for row in conn.execute(table.select()).mappings()]
                if rows:
                    _SEEDED[table.name] = rows


def _compile_catalogues() -> None:
    """What `make install` does: the uk, ru and ro catalogues compiled next to their .po (a .mo older than its
    .po is rebuilt), so the suite speaks the shop's languages however it was started."""
    from pathlib import Path

    from babel.messages.pofile import read_po

    for po in (Path(__file__).resolve().parent.parent / "crm" / "translations").glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            with open(po, "rb") as source, open(mo, "wb") as out:
                write_mo(out, read_po(source))


@pytest.fixture(scope="session")
def app():
    _compile_catalogues()
    tmpdir = tempfile.mkdtemp(prefix="crm-test-")
    url = DATABASE_URL or "sqlite:///" + os.path.join(tmpdir, "test.sqlite3")
    app = create_app("test", SQLALCHEMY_DATABASE_URI=url)
    _reset_schema(app)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _empty_all_tables(app) -> None:
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            if IS_POSTGRES:
                names = ", ".join(t.name for t in db.metadata.sorted_tables)
                conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            else:  # the audit log's append-only triggers refuse DELETE: lifted while the tables are emptied
                triggers = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                                   "AND name LIKE 'loyalty_audit%'")).all()  # the search triggers stay
                for name, _ in triggers:
                    conn.execute(text(f'DROP TRIGGER "{name}"'))
                for table in reversed(db.metadata.sorted_tables):
                    conn.execute(table.delete())
                for _, sql in triggers:
                    conn.execute(text(sql))
            for table in db.metadata.sorted_tables:
                if table.name in _SEEDED:
                    conn.execute(table.insert(), _SEEDED[table.name])
                    if IS_POSTGRES and "id" in table.c:  # the next row after the seeded ids, as after a migration
                        conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                          f"(SELECT MAX(id) FROM {table.name}))"))


@pytest.fixture(autouse=True)
def _clean_database(app):
    yield
    _empty_all_tables(app)


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def session(app_ctx):
    """The Flask-SQLAlchemy session inside an app context, for service tests."""
    return db.session


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def make(app_ctx):
    """Factory helpers that add and flush: make.staff(role=...), make.customer(...), make.order(...)."""
    return factories


class Auth:
    """Logs the test client in as a staff member created for the purpose, reading the CSRF token
    from the login page as a browser would (CSRF stays on in tests)."""

    def __init__(self, app, client):
        self.app = app
        self.client = client

    def login(self, role: str = "manager", username: str | None = None, password: str = "correct-horse-42"):
        username = username or f"{role}-login-{next(_logins)}"
        with self.app.app_context():
            user = factories.staff(role=role, username=username, password=password)
            db.session.commit()
            user_id = user.id
            db.session.remove()
        token = csrf_token(self.client, "/login")
        response = self.client.post("/login", data={"username": username, "password": password,
                                                    "csrf_token": token})
        assert response.status_code == 302, response.get_data(as_text=True)
        return user_id

    def logout(self):
        token = csrf_token(self.client, "/customers")
        return self.client.post("/logout", data={"csrf_token": token})


def csrf_token(client, path: str) -> str:
    """The CSRF token from a page's form, as a browser would submit it."""
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


@pytest.fixture
def auth(app, client):
    return Auth(app, client)


@pytest.fixture
def cheap_password_hashing(monkeypatch):
    """argon2id at its lowest cost, for tests that log in often but are not about hashing."""
    monkeypatch.setattr("crm.auth.passwords._hasher", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.fixture
def count_queries(app):
    """Use as ``with count_queries() as counter: ...``; ``counter.count`` is the number of statements."""

    @contextmanager
    def counting():
        class Counter:
            count = 0
            statements: list[str] = []

        counter = Counter()
        counter.statements = []

        def before(conn, cursor, statement, parameters, context, executemany):
            if statement.strip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE", "PRAGMA")):
                return
            counter.count += 1
            counter.statements.append(statement)

        with app.app_context():
            engine = db.engine
        event.listen(engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counting


def pytest_sessionfinish(session, exitstatus):
    """With CRM_NO_SKIPS=1 (CI) a skipped test fails the run: no stage may pass by not running."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if os.environ.get("CRM_NO_SKIPS") and skipped and exitstatus == 0:
        session.exitstatus = 1
        reporter.write_line(f"CRM_NO_SKIPS: {skipped} test(s) skipped; failing the run.", red=True)


@pytest.fixture
def ukrainian_app(app, tmp_path):
    """An app whose Ukrainian catalogue has a few entries (standing in for the shop's translation) while the
    shop's own language stays English."""
    catalog = Catalog(locale="uk")
    for english, ukrainian in (("Unsubscribe", "Відписатися"), ("Awaiting parts", "Очікує запчастини"),
                               ("Phone", "Телефон"), ("Ready for pickup", "Готово до видачі"),
                               ("Your device is ready. Bring your receipt to collect it.",
                                "Ваш пристрій готовий. Візьміть квитанцію, щоб забрати його.")):
        catalog.add(english, ukrainian)
    (tmp_path / "uk" / "LC_MESSAGES").mkdir(parents=True)
    with open(tmp_path / "uk" / "LC_MESSAGES" / "messages.mo", "wb") as out:
        write_mo(out, catalog)
    translated = create_app("test", SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                            BABEL_TRANSLATION_DIRECTORIES=str(tmp_path))
    with fresh_translations():
        yield translated
    with translated.app_context():
        db.session.remove()
        db.engine.dispose()


@contextmanager
def fresh_translations():
    """Flask-Babel keeps loaded catalogues in one cache shared by every app of the process (by language only):
    an app with catalogues of its own empties it before and after, so no other app reads them."""
    def clear():
        domain = babel.__dict__.get("domain_instance")  # a cached_property: absent until first used
        if domain is not None:
            domain.cache.clear()

    clear()
    try:
        yield
    finally:
        clear()
