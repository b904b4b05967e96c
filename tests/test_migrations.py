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


def schema_differences(engine, metadata) -> list:
    with engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), metadata)


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
    return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}


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
