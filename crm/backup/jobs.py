"""The daily backup of a SQLite shop: a copy in BACKUP_DIR named crm-daily-<UTC time>.sqlite3, then the oldest of
those beyond BACKUP_KEEP are deleted. Only files with exactly that name pattern are ever deleted, so manual backups
(`crm backup`) and anything else in the folder stay. A PostgreSQL shop backs up with pg_dump (README "Backups"):
there the job logs that and does nothing. Running twice in a day writes two copies; retention keeps the count."""

import logging
import re
from datetime import datetime
from pathlib import Path

from flask import current_app
from sqlalchemy.orm import Session

from crm.backup.postgres import is_postgres
from crm.backup.sqlite import BackupError, database_file, stamp, write_backup
from crm.jobs import daily

log = logging.getLogger(__name__)
DAILY_NAME = re.compile(r"crm-daily-\d{8}T\d{6}Z\.sqlite3")


def daily_name(now: datetime) -> str:
    return f"crm-daily-{stamp(now)}.sqlite3"


def backup_folder(config, database: Path) -> Path:
    """BACKUP_DIR, or a "backups" folder beside the database file when it is not set."""
    return Path(config["BACKUP_DIR"]) if config.get("BACKUP_DIR") else database.parent / "backups"


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete the oldest daily backups beyond ``keep`` (by the time in their names) and return them."""
    if keep < 1:
        raise BackupError(f"BACKUP_KEEP must be at least 1 (it is {keep}): the newest backup is never deleted.")
    daily_files = sorted(path for path in folder.iterdir() if DAILY_NAME.fullmatch(path.name) and path.is_file())
    old = daily_files[:-keep]
    for path in old:
        path.unlink()
    return old


@daily("backup", at="01:30")
def daily_backup(session: Session, now: datetime) -> str:
    """Back up the SQLite database to BACKUP_DIR and keep the newest BACKUP_KEEP daily copies."""
    url = session.get_bind().url
    if is_postgres(url):
        log.info("backup job: the database is PostgreSQL, which this job does not copy; run pg_dump (README "
                 "\"Backups\")")
        return "nothing done: PostgreSQL is backed up with pg_dump"
    keep = current_app.config["BACKUP_KEEP"]
    if keep < 1:
        raise BackupError(f"BACKUP_KEEP must be at least 1 (it is {keep}).")
    database = database_file(url)
    folder = backup_folder(current_app.config, database)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    written = write_backup(database, folder / daily_name(now))
    removed = prune(folder, keep)
    return f"wrote {written}, deleted {len(removed)} older backup(s)"
