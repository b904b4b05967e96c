"""`flask crm backup` and `flask crm restore` as the shop runs them (Flask's CLI runner, real files)."""

from sqlalchemy import select

from crm.customers.models import Customer
from crm.extensions import db
from tests import factories
from tests.backup.conftest import close, postgres_app


def crm(app, *args, input=None):
    return app.test_cli_runner().invoke(args=["crm", *map(str, args)], input=input)


def customers(app) -> list[str]:
    with app.app_context():
        found = list(db.session.scalars(select(Customer.name).order_by(Customer.name)))
        db.session.remove()
    return found


def add_customer(app, name: str) -> None:
    with app.app_context():
        factories.customer(name=name)
        db.session.commit()
        db.session.remove()


def test_backup_to_a_folder_names_the_file_and_reports_the_check(shop, tmp_path):
    result = crm(shop, "backup", tmp_path)
    assert result.exit_code == 0, result.output
    [written] = tmp_path.glob("crm-*.sqlite3")
    assert f"Backup written to {written}" in result.output and "integrity check: ok" in result.output


def test_backup_does_not_replace_a_file_unless_told(shop, tmp_path):
    target = tmp_path / "nightly.sqlite3"
    target.write_text("yesterday's")
    result = crm(shop, "backup", target)
    assert result.exit_code != 0 and "exists: choose another path or add --overwrite" in result.output
    assert target.read_text() == "yesterday's"
    assert crm(shop, "backup", target, "--overwrite").exit_code == 0
    assert target.read_bytes().startswith(b"SQLite format 3\x00")


def test_restore_asks_first_and_does_nothing_when_the_answer_is_no(shop, tmp_path):
    add_customer(shop, "Olena Backup")
    crm(shop, "backup", tmp_path / "b.sqlite3")
    add_customer(shop, "Petro After")

    declined = crm(shop, "restore", tmp_path / "b.sqlite3", input="n\n")
    assert declined.exit_code != 0 and "Replace the database" in declined.output
    assert customers(shop) == ["Olena Backup", "Petro After"]

    accepted = crm(shop, "restore", tmp_path / "b.sqlite3", input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert "integrity check ok, migration" in accepted.output and "before-restore-" in accepted.output
    assert customers(shop) == ["Olena Backup"]


def test_restore_with_yes_does_not_ask(shop, tmp_path):
    add_customer(shop, "Olena Backup")
    crm(shop, "backup", tmp_path / "b.sqlite3")
    add_customer(shop, "Petro After")
    result = crm(shop, "restore", tmp_path / "b.sqlite3", "--yes")
    assert result.exit_code == 0 and "Replace the database" not in result.output
    assert customers(shop) == ["Olena Backup"]


def test_restore_refuses_a_bad_file_with_the_reason(shop, tmp_path):
    add_customer(shop, "Olena Backup")
    junk = tmp_path / "junk.sqlite3"
    junk.write_text("not a database")
    result = crm(shop, "restore", junk, "--yes")
    assert result.exit_code == 1 and "not a SQLite database" in result.output
    missing = crm(shop, "restore", tmp_path / "missing.sqlite3", "--yes")
    assert missing.exit_code == 1 and "There is no file at" in missing.output
    assert customers(shop) == ["Olena Backup"]


def test_on_postgresql_both_commands_print_the_pg_commands_without_the_password_and_fail(tmp_path):
    app = postgres_app()
    backup = crm(app, "backup", "/srv/backups/crm.dump")
    restore = crm(app, "restore", "/srv/backups/crm.dump", "--yes")
    close(app)

    for result in (backup, restore):
        assert result.exit_code == 1
        assert "pg_dump -Fc --no-owner -h db.invalid -p 5433 -U shop -f /srv/backups/crm.dump crm" in result.output
        assert ("pg_restore --clean --if-exists --no-owner --single-transaction -h db.invalid -p 5433 -U shop "
                "-d crm /srv/backups/crm.dump") in result.output
        assert "s3cret-pw" not in result.output
    assert "db upgrade" in restore.output


def test_run_job_backup_from_the_command_line(shop, tmp_path):
    shop.config.update(BACKUP_DIR=str(tmp_path / "daily"), BACKUP_KEEP=14)
    result = crm(shop, "run-job", "backup")
    assert result.exit_code == 0, result.output
    assert len(list((tmp_path / "daily").glob("crm-daily-*.sqlite3"))) == 1
