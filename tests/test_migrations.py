"""The migrations build exactly the schema the models describe, and can be undone and redone."""

import os
import tempfile

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from crm import create_app
from crm.extensions import db, migrate
from crm.search_index import is_search_index_object, is_search_index_table


def _not_search_index(name, type_, parent_names) -> bool:
    return not is_search_index_object(name, type_, parent_names)


def schema_differences(engine, metadata) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": _not_search_index})
        return compare_metadata(context, metadata)


def test_migrated_database_matches_the_models(app):
    """If this fails, a model changed without a migration: run `flask --app wsgi db migrate` and review it."""
    with app.app_context():
        differences = schema_differences(db.engine, db.metadata)
        db.session.remove()
    assert differences == []


def test_the_comparison_notices_a_model_change(app):
    """The check above can fail: a column the migrations never created is reported."""
    changed = sa.MetaData(naming_convention=db.metadata.naming_convention)
    for table in db.metadata.tables.values():
        table.to_metadata(changed)
    changed.tables["auth_staff"].append_column(sa.Column("nickname", sa.String(40)))
    with app.app_context():
        differences = schema_differences(db.engine, changed)
        db.session.remove()
    assert [(d[0], d[3].name) for d in differences] == [("add_column", "nickname")]


def test_database_is_at_the_single_migration_head(app):
    with app.app_context():
        scripts = ScriptDirectory.from_config(migrate.get_config())
        with db.engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
        db.session.remove()
    assert len(scripts.get_heads()) == 1, f"branched migration history: {scripts.get_heads()}"
    assert current == scripts.get_current_head()


@pytest.fixture
def fresh_app():
    """An app on its own new SQLite file, so the shared test database is never touched."""
    tmpdir = tempfile.mkdtemp(prefix="crm-migrations-")
    fresh = create_app("test", SQLALCHEMY_DATABASE_URI="sqlite:///" + os.path.join(tmpdir, "fresh.sqlite3"))
    yield fresh
    with fresh.app_context():
        db.session.remove()
        db.engine.dispose()


def table_names(engine) -> set[str]:
    return {name for name in sa.inspect(engine).get_table_names()
            if name != "alembic_version" and not is_search_index_table(name)}


def test_downgrade_to_base_and_upgrade_again(fresh_app):
    with fresh_app.app_context():
        engine = db.engine
        upgrade()
        assert table_names(engine) == set(db.metadata.tables)

        downgrade(revision="base")
        assert table_names(engine) == set()

        upgrade()
        assert table_names(engine) == set(db.metadata.tables)
        assert schema_differences(engine, db.metadata) == []


def test_a_new_shop_has_its_loyalty_settings_row_with_the_programs_defaults(app_ctx):
    """Migration 0008 writes the defaults down by value: they must stay those of crm.loyalty.program."""
    from crm.loyalty.models import Program
    from crm.loyalty.program import PROGRAM_DEFAULTS

    program = db.session.get(Program, 1)
    assert program is not None
    assert {name: getattr(program, name) for name in PROGRAM_DEFAULTS} == PROGRAM_DEFAULTS


def _search_index_objects(engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.scalars(sa.text("SELECT name FROM sqlite_master WHERE name LIKE '%\\_fts%' ESCAPE '\\'")))


def test_search_index_is_built_from_existing_rows_and_dropped_by_its_downgrade(fresh_app):
    """0014 backfills the FTS5 tables from the customers and orders already there; its downgrade drops the
    tables and the triggers, and upgrading again rebuilds them."""
    from crm.customers.search import search_customers
    from crm.orders.queries import OrderFilters, list_orders

    with fresh_app.app_context():
        engine = db.engine
        upgrade(revision="0012_staff_language")
        with engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO customers_customer (id, phone, name, search_text, service_consent, marketing_consent, "
                "notes, preferred_channel, created_at, updated_at) VALUES (7, '+380671234567', 'Ștefan', "
                "'ștefan 380671234567 0671234567', 1, 0, '', 'auto', '2026-01-01', '2026-01-01')"))
            connection.execute(sa.text(
                "INSERT INTO orders_repair_order (id, number, customer_id, device_type, brand, model, serial_number, "
                "imei, condition, accessories, problem, priority, warranty_days, repair_kind, status, quote_version, "
                "tracking_token, search_text, created_at, updated_at) VALUES (3, 'R-00003', 7, 'phone', 'Apple', "
                "'iPhone 12', '', '', '', '', 'screen', 0, 90, '', 'received', 0, 'tok', 'r-00003 apple iphone 12', "
                "'2026-01-01', '2026-01-01')"))
        assert _search_index_objects(engine) == set()
        upgrade()
        assert len(_search_index_objects(engine)) >= 10  # 2 tables, 2 vocabularies, 6 triggers, shadow tables
        assert [c.id for c in search_customers(db.session, "ștef")[0]] == [7]
        assert [c.id for c in search_customers(db.session, "ș")[0]] == [7]
        for typed in ("iphone", "0671", "ștef", "ș"):
            assert [o.id for o in list_orders(db.session, OrderFilters(text=typed), tz=None)[0]] == [3], typed
        db.session.remove()

        downgrade(revision="0012_staff_language")
        assert _search_index_objects(engine) == set()
        upgrade()
        assert [c.id for c in search_customers(db.session, "380671")[0]] == [7]
        db.session.remove()


def test_the_change_logs_rows_get_their_area_when_it_becomes_the_audit_log(fresh_app):
    """Migration 0015: the rows written before it keep their meaning under the new "what" filter."""
    with fresh_app.app_context():
        upgrade(revision="0012_staff_language")
        with db.engine.begin() as conn:
            for subject in ("program", "tier:2", "staff:olena", "message_template:welcome:sms:en", "checkup:battery",
                            "reminders", "customer:7"):
                conn.execute(sa.text("INSERT INTO loyalty_audit (subject, field, old_value, new_value, created_at) "
                                     "VALUES (:s, 'x', '', '', CURRENT_TIMESTAMP)"), {"s": subject})
        upgrade()
        with db.engine.connect() as conn:
            areas = dict(conn.execute(sa.text("SELECT subject, area FROM loyalty_audit")).all())
            actions = set(conn.execute(sa.text("SELECT action FROM loyalty_audit")).scalars())
    assert areas == {"program": "loyalty", "tier:2": "loyalty", "staff:olena": "staff",
                     "message_template:welcome:sms:en": "notifications", "checkup:battery": "reminders",
                     "reminders": "reminders", "customer:7": "privacy"}
    assert actions == {"change"}
