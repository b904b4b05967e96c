"""Backing up and restoring a live SQLite database file.

A backup is ``VACUUM INTO`` a temporary file beside the destination, checked with ``PRAGMA integrity_check``,
flushed to disk and renamed over the destination (a reader of the destination sees the old file or the new one,
never half of one). ``VACUUM INTO`` reads the database in one read transaction: on the app's WAL database that is
a snapshot which writers never wait for, and it cannot be restarted by them. The online backup API copying in
steps (``Connection.backup(pages=n)``) restarts from the first page whenever another connection commits between
two steps, so with desks checking out it may never finish (a 46 MB file with one writer committing every 2 ms:
749 restarts and 43 s in steps of 1024 pages, no end in steps of 100; VACUUM INTO: 0.2 s, the writer's slowest
commit 23 ms against 16 ms without a backup running).

A restore copies the chosen file to a private temporary file (the user's file is never opened by SQLite, and what
is checked is exactly what is restored), checks it (SQLite header, integrity check, migration version), takes an
exclusive lock on the live database that fails while another connection holds it open (a web worker or the
scheduler that has read or written it), keeps the live database as ``<name>.before-restore-<timestamp>`` and
then writes the backup into it with the backup API, in one write transaction under that lock."""

import os
import secrets
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

SQLITE_HEADER = b"SQLite format 3\x00"
# How long the restore waits for another connection to let go of the database before saying it is in use.
LOCK_WAIT_SECONDS = 2


class BackupError(Exception):
    """A backup or restore refused or failed; the message says why and what to do."""


@dataclass(frozen=True)
class Migrations:
    """The app's migration history: the head(s) a database must be at, and every revision the app knows."""

    heads: frozenset[str]
    known: frozenset[str]


@dataclass(frozen=True)
class Candidate:
    """A checked backup: its migration revision(s) and whether it is older than the app's head."""

    path: Path
    revisions: frozenset[str]
    older: bool


@dataclass(frozen=True)
class Restored:
    candidate: Candidate
    before_restore: Path | None  # the database as it was (None when there was none)


def stamp(moment: datetime) -> str:
    """A moment as it appears in file names: 20261203T013000Z (UTC)."""
    return moment.strftime("%Y%m%dT%H%M%SZ")


def _uri(path: Path, mode: str) -> str:
    return f"{path.resolve().as_uri()}?mode={mode}"


def _connect(path: Path, mode: str = "rw", timeout: float = 30) -> sqlite3.Connection:
    """A plain sqlite3 connection in autocommit mode; mode "rw" never creates a missing file."""
    return sqlite3.connect(_uri(path, mode), uri=True, isolation_level=None, timeout=timeout)


def integrity_problems(path: Path) -> list[str]:
    """What ``PRAGMA integrity_check`` reports about the file (empty when it says "ok"), or why SQLite cannot read
    it at all. A file without the SQLite header is not opened (SQLite takes an empty file for an empty database)."""
    if not has_sqlite_header(path):
        return ["not a SQLite database (the file does not start with the SQLite header)"]
    try:
        with closing(_connect(path, "ro")) as conn:
            rows = [row[0] for row in conn.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    return [] if rows == ["ok"] else rows


def has_sqlite_header(path: Path) -> bool:
    with open(path, "rb") as file:
        return file.read(len(SQLITE_HEADER)) == SQLITE_HEADER


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_backup(database: Path, destination: Path) -> Path:
    """Write a consistent copy of the live database to ``destination`` (replacing it atomically) and return it.
    Desks keep working meanwhile. Refused when the copy fails its integrity check; nothing is left behind then."""
    if not database.is_file():
        raise BackupError(f"There is no database file at {database}.")
    destination = destination.resolve()
    if destination == database.resolve():
        raise BackupError("The backup cannot be written over the database itself: choose another path.")
    if not destination.parent.is_dir():
        raise BackupError(f"The folder {destination.parent} does not exist.")
    temporary = destination.with_name(f".{destination.name}.{secrets.token_hex(6)}.tmp")
    try:
        with closing(_connect(database)) as conn:
            conn.execute("VACUUM INTO ?", (str(temporary),))
        os.chmod(temporary, 0o600)  # customers' phones and names: readable by the shop's account only
        problems = integrity_problems(temporary)
        if problems:
            raise BackupError(f"The copy failed its integrity check ({'; '.join(problems[:5])}); nothing was "
                              "written. Check the database with `sqlite3 FILE 'PRAGMA integrity_check'`.")
        _fsync(temporary)
        os.replace(temporary, destination)
        _fsync(destination.parent)
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite could not copy {database}: {exc}.") from exc
    except OSError as exc:
        raise BackupError(f"The backup could not be written to {destination}: {exc}.") from exc
    finally:
        temporary.unlink(missing_ok=True)
    return destination


def check_backup(path: Path, migrations: Migrations) -> Candidate:
    """Whether ``path`` can be restored: a SQLite database that passes the integrity check and is at the app's
    migration head, or at an older revision the app knows (then `flask db upgrade` brings it up to date after the
    restore). A revision the app does not know (a newer version of the CRM, or another application) is refused."""
    problems = integrity_problems(path)
    if problems:
        raise BackupError(f"{path} cannot be restored: {'; '.join(problems[:5])}.")
    try:
        with closing(_connect(path, "ro")) as conn:
            revisions = frozenset(row[0] for row in conn.execute("SELECT version_num FROM alembic_version"))
    except sqlite3.DatabaseError:
        revisions = frozenset()
    if not revisions:
        raise BackupError(f"{path} is a SQLite database but not one of this CRM (it has no migration version).")
    if revisions == migrations.heads:
        return Candidate(path, revisions, older=False)
    if revisions <= migrations.known:
        return Candidate(path, revisions, older=True)
    raise BackupError(f"{path} is at migration {', '.join(sorted(revisions))}, which this version of the CRM does "
                      f"not know (it is at {', '.join(sorted(migrations.heads))}): the backup comes from a newer "
                      "version of the CRM or from another application. Update the CRM first.")


@contextmanager
def exclusive(database: Path) -> Iterator[sqlite3.Connection]:
    """A connection holding the database's exclusive lock until the block ends. Switching the journal out of WAL
    needs every other connection closed, so this fails with "in use" while the web app or the scheduler has the
    database open (even idle, a pooled connection keeps its lock); the WAL is checkpointed into the file first."""
    conn = _connect(database, "rw" if database.exists() else "rwc", timeout=LOCK_WAIT_SECONDS)
    try:
        try:
            conn.execute("PRAGMA locking_mode=EXCLUSIVE")
            conn.execute("PRAGMA journal_mode=DELETE").fetchall()
            conn.execute("BEGIN EXCLUSIVE")
            conn.execute("COMMIT")  # in exclusive locking mode the lock stays after the transaction
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise BackupError(f"The database {database} is in use: stop the web app (gunicorn, `flask run`) and "
                                  "the scheduler (`crm scheduler`), then restore again. Nothing was changed.") from exc
            raise BackupError(f"SQLite cannot open the current database {database}: {exc}. Move it aside "
                              "(with its -wal and -shm files) and restore again.") from exc
        yield conn
    finally:
        conn.close()


def _free_name(path: Path) -> Path:
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}-{n}")
    return candidate


def _copy_pages(source: sqlite3.Connection, target_path: Path) -> None:
    with closing(sqlite3.connect(_uri(target_path, "rwc"), uri=True)) as target:
        source.backup(target)


def restore(database: Path, backup: Path, migrations: Migrations, *, now: datetime,
            confirm: Callable[[Candidate], bool] = lambda candidate: True) -> Restored:
    """Replace the live database with a checked backup. ``confirm`` is asked after the checks and before anything
    changes; False leaves everything as it was. The database as it was is kept beside it as
    ``<name>.before-restore-<timestamp>``, so a wrong restore is undone by restoring that file."""
    if not backup.is_file():
        raise BackupError(f"There is no file at {backup}.")
    if database.exists() and backup.resolve() == database.resolve():
        raise BackupError(f"{backup} is the current database itself.")
    if not database.parent.is_dir():
        raise BackupError(f"The database's folder {database.parent} does not exist.")
    private = database.with_name(f".{database.name}.restore-{secrets.token_hex(6)}.tmp")
    try:
        shutil.copyfile(backup, private)
        os.chmod(private, 0o600)
        candidate = check_backup(private, migrations)
        shown = Candidate(backup, candidate.revisions, candidate.older)
        if not confirm(shown):
            raise BackupError("Restore cancelled: nothing was changed.")
        had_database = database.exists() and database.stat().st_size > 0
        with exclusive(database) as live:
            before = None
            if had_database:
                # The backup API copies pages as they are, so even a damaged database is kept faithfully.
                before = _free_name(database.with_name(f"{database.name}.before-restore-{stamp(now)}"))
                _copy_pages(live, before)
                os.chmod(before, 0o600)
            with closing(_connect(private, "ro")) as source:
                source.backup(live)
            if [row[0] for row in live.execute("PRAGMA quick_check")] != ["ok"]:
                raise BackupError("The restored database fails its check; put the previous one back from "
                                  f"{before} with `crm restore`.")
        return Restored(shown, before)
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite could not restore {backup}: {exc}. Nothing was changed.") from exc
    except OSError as exc:
        raise BackupError(f"{backup} could not be restored: {exc}. Nothing was changed.") from exc
    finally:
        private.unlink(missing_ok=True)


def app_migrations() -> Migrations:
    """The running app's migration history (inside an app context)."""
    from alembic.script import ScriptDirectory

    from crm.extensions import migrate

    scripts = ScriptDirectory.from_config(migrate.get_config())
    return Migrations(heads=frozenset(scripts.get_heads()),
                      known=frozenset(revision.revision for revision in scripts.walk_revisions()))


def database_file(url) -> Path:
    """The file of a SQLite database URL (sqlalchemy URL), refusing an in-memory database."""
    if url.database in (None, "", ":memory:") or url.database.startswith("file::memory:"):
        raise BackupError("The database is in memory: there is no file to back up or restore.")
    return Path(url.database)
