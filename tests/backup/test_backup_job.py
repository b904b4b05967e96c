"""The daily backup job: a checked copy in BACKUP_DIR, the newest BACKUP_KEEP of its own copies kept, nothing else
in the folder touched; on PostgreSQL it does nothing and says so."""

import logging
from datetime import UTC, datetime

import pytest

from crm.backup import jobs
from crm.backup import sqlite as backup
from crm.extensions import db
from crm.jobs import discover
from crm.scheduler import run_job
from tests.backup.conftest import close, postgres_app

NOW = datetime(2026, 12, 3, 23, 30, tzinfo=UTC)


def test_the_backup_is_a_daily_job_before_the_nightly_point_jobs():
    job = discover()["backup"]
    assert job.at == "01:30" and job.at < discover()["expire-points"].at


def test_the_job_writes_a_checked_copy_beside_the_database_by_default(shop, database):
    shop.config["BACKUP_DIR"] = ""  # the default, whatever this machine's environment says
    result = run_job(shop, "backup", now=NOW)

    copy = database.parent / "backups" / "crm-daily-20261203T233000Z.sqlite3"
    assert str(copy) in result
    assert backup.integrity_problems(copy) == []
    assert copy.stat().st_mode & 0o077 == 0  # the shop's account only: it holds customers' data


def test_the_oldest_daily_backups_beyond_the_count_are_deleted_and_nothing_else(shop, tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    shop.config.update(BACKUP_DIR=str(folder), BACKUP_KEEP=3)
    for day in range(1, 6):
        (folder / f"crm-daily-202611{day:02d}T013000Z.sqlite3").write_bytes(b"an older copy")
    others = ["crm-20261101T013000Z.sqlite3",  # a manual `crm backup`
              "crm-daily-20261101T013000Z.sqlite3.bak", "crm-daily-notes.txt", "crm.sqlite3.before-restore-x"]
    for name in others:
        (folder / name).write_text("not the job's")

    result = run_job(shop, "backup", now=NOW)

    assert "deleted 3 older backup(s)" in result
    assert sorted(p.name for p in folder.iterdir()) == sorted([
        *others, "crm-daily-20261104T013000Z.sqlite3", "crm-daily-20261105T013000Z.sqlite3",
        "crm-daily-20261203T233000Z.sqlite3"])


def test_running_again_keeps_the_count(shop, tmp_path):
    shop.config.update(BACKUP_DIR=str(tmp_path / "b"), BACKUP_KEEP=2)
    for hour in range(4):
        run_job(shop, "backup", now=NOW.replace(hour=hour))
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == [
        "crm-daily-20261203T023000Z.sqlite3", "crm-daily-20261203T033000Z.sqlite3"]


def test_a_keep_count_below_one_is_refused_before_anything_is_written(shop, tmp_path):
    shop.config.update(BACKUP_DIR=str(tmp_path / "b"), BACKUP_KEEP=0)
    with pytest.raises(backup.BackupError, match="at least 1"):
        run_job(shop, "backup", now=NOW)
    assert not (tmp_path / "b").exists()


def test_on_postgresql_the_job_does_nothing_and_logs_it(tmp_path, caplog):
    app = postgres_app(BACKUP_DIR=str(tmp_path / "b"))  # never connects: the job only reads the URL
    with caplog.at_level(logging.INFO, logger="crm.backup.jobs"), app.app_context():
        result = jobs.daily_backup(db.session, NOW)
    assert result == "nothing done: PostgreSQL is backed up with pg_dump"
    assert "pg_dump" in caplog.text and not (tmp_path / "b").exists()
    close(app)
