"""Restoring a backup: only a SQLite file of this CRM that passes the integrity check and is at a migration this app
knows; the current database is kept beside it first; refusals leave the current database exactly as it was."""

import hashlib
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import select

from crm.backup import sqlite as backup
from crm.customers.models import Customer
from crm.extensions import db
from tests import factories
from tests.backup.conftest import close, file_app

NOW = datetime(2026, 12, 3, 14, 30, tzinfo=UTC)


def add_customer(app, name: str) -> None:
    with app.app_context():
        factories.customer(name=name)
        db.session.commit()
        db.session.remove()


def names(app) -> list[str]:
    with app.app_context():
        found = list(db.session.scalars(select(Customer.name).order_by(Customer.name)))
        db.session.remove()
    return found


def migrations(app) -> backup.Migrations:
    with app.app_context():
        return backup.app_migrations()


def fingerprint(database: Path) -> tuple:
    """The bytes of the database and of its WAL, and every file beside it: what "untouched" means."""
    files = sorted(path.name for path in database.parent.iterdir())
    return files, *(hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(database.parent.iterdir()))


@pytest.fixture
def good_backup(shop, database, tmp_path) -> Path:
    """A backup holding one customer, Olena; the live database has Petro added after it."""
    add_customer(shop, "Olena Backup")
    path = backup.write_backup(database, tmp_path / "good.sqlite3")
    add_customer(shop, "Petro After")
    close(shop)
    return path


def refused(shop, database, path: Path, message: str) -> None:
    before = fingerprint(database)
    with pytest.raises(backup.BackupError, match=message):
        backup.restore(database, path, migrations(shop), now=NOW)
    assert fingerprint(database) == before
    assert names(shop) == ["Olena Backup", "Petro After"]


def test_a_good_backup_restores_and_the_app_reads_it(shop, database, good_backup):
    restored = backup.restore(database, good_backup, migrations(shop), now=NOW)

    assert restored.candidate.older is False
    assert names(shop) == ["Olena Backup"]
    add_customer(shop, "Ivan Restored")  # the app writes to it as before
    assert names(shop) == ["Ivan Restored", "Olena Backup"]


def test_the_database_as_it_was_is_kept_and_restoring_it_undoes_the_restore(shop, database, good_backup):
    restored = backup.restore(database, good_backup, migrations(shop), now=NOW)

    assert restored.before_restore == database.with_name("crm.sqlite3.before-restore-20261203T143000Z")
    assert backup.integrity_problems(restored.before_restore) == []
    close(shop)
    again = backup.restore(database, restored.before_restore, migrations(shop), now=NOW)
    assert names(shop) == ["Olena Backup", "Petro After"]
    assert again.before_restore.name == "crm.sqlite3.before-restore-20261203T143000Z-2"  # the first one stays


def test_a_file_that_is_not_a_sqlite_database_is_refused(shop, database, good_backup, tmp_path):
    text = tmp_path / "notes.sqlite3"
    text.write_text("customer list, not a database\n")
    refused(shop, database, text, "not a SQLite database")
    empty = tmp_path / "empty.sqlite3"
    empty.write_bytes(b"")  # SQLite itself would take it for an empty database
    refused(shop, database, empty, "not a SQLite database")


def test_a_damaged_backup_is_refused(shop, database, good_backup, tmp_path):
    data = bytearray(good_backup.read_bytes())
    page = 4096
    for offset in range(3 * page, len(data) - page, 7 * page):  # scribble over every seventh page
        data[offset: offset + 300] = bytes(range(256)) + bytes(44)  # the page header too: any page, empty or not
    damaged = tmp_path / "damaged.sqlite3"
    damaged.write_bytes(bytes(data))
    refused(shop, database, damaged, "cannot be restored")
    truncated = tmp_path / "truncated.sqlite3"
    truncated.write_bytes(good_backup.read_bytes()[: len(data) // 2])
    refused(shop, database, truncated, "cannot be restored")


def _set_version(path: Path, revision: str | None) -> None:
    with closing(sqlite3.connect(path)) as conn:
        if revision is None:
            conn.execute("DROP TABLE alembic_version")
        else:
            conn.execute("UPDATE alembic_version SET version_num = ?", (revision,))
        conn.commit()


def test_a_backup_from_a_newer_or_unknown_migration_is_refused(shop, database, good_backup):
    _set_version(good_backup, "0099_from_the_future")
    refused(shop, database, good_backup, "migration 0099_from_the_future, which this version of the CRM does not know")


def test_a_sqlite_database_of_another_application_is_refused(shop, database, good_backup, tmp_path):
    other = tmp_path / "other.sqlite3"
    with closing(sqlite3.connect(other)) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.commit()
    refused(shop, database, other, "not one of this CRM")
    _set_version(good_backup, None)
    refused(shop, database, good_backup, "not one of this CRM")


def test_a_backup_at_an_older_migration_restores_and_upgrades(shop, database, tmp_path):
    old_file = tmp_path / "old" / "crm.sqlite3"
    old_file.parent.mkdir()
    old_app = file_app(old_file)
    with old_app.app_context():
        upgrade(revision="0011_quote_approval")
        # Raw SQL: the models describe the newest schema, this database is at 0011's.
        db.session.execute(db.text(
            "INSERT INTO customers_customer (name, phone, email, service_consent, marketing_consent, notes, "
            "search_text, created_at, updated_at) VALUES ('Old Backup', '+380501112233', NULL, 1, 0, '', "
            "'old backup', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"))
        db.session.commit()
    close(old_app)

    restored = backup.restore(database, old_file, migrations(shop), now=NOW)

    assert restored.candidate.older and restored.candidate.revisions == {"0011_quote_approval"}
    with shop.app_context():
        upgrade()
        db.session.remove()
    assert names(shop) == ["Old Backup"]


def test_restore_is_refused_while_the_app_has_the_database_open(shop, database, good_backup):
    with shop.app_context():  # a running web app: a pooled connection that has read the database
        assert db.session.scalars(select(Customer.name)).all()
        db.session.commit()
        before = fingerprint(database)
        with pytest.raises(backup.BackupError, match="in use: stop the web app"):
            backup.restore(database, good_backup, migrations(shop), now=NOW)
        assert fingerprint(database) == before
        db.session.remove()
    close(shop)
    assert names(shop) == ["Olena Backup", "Petro After"]


def test_nothing_changes_when_the_restore_is_not_confirmed(shop, database, good_backup):
    asked = []

    def decline(candidate):
        asked.append(candidate)
        return False

    before = fingerprint(database)
    with pytest.raises(backup.BackupError, match="cancelled"):
        backup.restore(database, good_backup, migrations(shop), now=NOW, confirm=decline)
    assert asked[0].path == good_backup and fingerprint(database) == before


def test_a_backup_is_refused_over_the_database_itself_or_into_a_missing_folder(database, tmp_path):
    with pytest.raises(backup.BackupError, match="over the database itself"):
        backup.write_backup(database, database)
    with pytest.raises(backup.BackupError, match="does not exist"):
        backup.write_backup(database, tmp_path / "nowhere" / "copy.sqlite3")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live"]
