"""`flask --app wsgi crm ...` commands."""

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from crm.auth import service as auth_service
from crm.auth.models import Role
from crm.extensions import db

crm_cli = AppGroup("crm", help="Repair-shop CRM commands.")


@crm_cli.command("create-user")
@click.option("--username", prompt=True)
@click.option("--full-name", prompt=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), prompt=True)
@click.password_option()
def create_user(username: str, full_name: str, role: str, password: str) -> None:
    """Create a staff account (the first manager of a new shop, say)."""
    try:
        user = auth_service.create_staff(db.session, username=username, full_name=full_name, role=role,
                                         password=password)
    except auth_service.AuthError as exc:
        raise click.ClickException(str(exc.message)) from None
    db.session.commit()
    click.echo(f"Created {user.role} account '{user.username}'.")


@crm_cli.command("demo")
@click.option("--customers", default=200, show_default=True)
@click.option("--seed", default=2026, show_default=True)
@click.option("--language", type=click.Choice(["en", "uk", "ru", "ro"]), default=None,
              help="The language of the demo's names, catalogue and notes (and of its staff and customers); "
                   "default: the shop's default language.")
def demo(customers: int, seed: int, language: str | None) -> None:
    """Load demo data once: one login per role, customers and orders in every status."""
    from crm.demo import DEMO_LOGINS, load_demo
    from crm.demo_texts import LANGUAGES

    if current_app.config["PRODUCTION"]:
        raise click.ClickException("Refusing to load demo data in production (CRM_CONFIG=production): its staff "
                                   "logins have published passwords. Create real accounts with `crm create-user`.")

    default = str(current_app.config["BABEL_DEFAULT_LOCALE"]).split("_")[0]
    language = language or (default if default in LANGUAGES else "en")
    if load_demo(db.session, customers=customers, seed=seed, region=current_app.config["PHONE_REGION"],
                 number_prefix=current_app.config["ORDER_NUMBER_PREFIX"],
                 sale_prefix=current_app.config["SALE_NUMBER_PREFIX"], language=language):
        db.session.commit()
        click.echo(f"Demo data loaded. Its language: {language}.")
    else:
        click.echo("Staff accounts exist already: demo data not loaded again.")
    click.echo("Demo logins (username / password):")
    for username, password, role in DEMO_LOGINS:
        click.echo(f"  {role:<11} {username} / {password}")


@crm_cli.command("scheduler")
def scheduler() -> None:
    """Run the scheduler: the one process that runs every scheduled job (dispatch, bonuses, expiry, ...)."""
    from crm.scheduler import build

    sched = build(current_app._get_current_object())
    click.echo("Scheduler running these jobs (Ctrl+C stops it):")
    for job in sched.get_jobs():
        click.echo(f"  {job.id:<22} {job.trigger}")
    try:
        sched.start()
    except (KeyboardInterrupt, SystemExit):
        click.echo("Scheduler stopped.")


@crm_cli.command("run-job")
@click.argument("name")
@click.option("--as-of", "as_of_day", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Run as of this day (noon, shop time) instead of now: a missed day, or a test.")
def run_job_command(name: str, as_of_day) -> None:
    """Run one scheduled job once (for cron users and tests). Safe to repeat: jobs do their work once."""
    from crm.jobs import discover
    from crm.scheduler import as_of, run_job

    jobs = discover()
    if name not in jobs:
        raise click.ClickException(f"No job called {name!r}. Jobs: {', '.join(sorted(jobs))}.")
    now = as_of(as_of_day.date()) if as_of_day else None
    result = run_job(current_app._get_current_object(), name, now=now)
    click.echo(f"{name}: {result}")


@crm_cli.command("jobs")
def list_jobs() -> None:
    """List the scheduled jobs and when they run."""
    from crm.jobs import discover

    for job in sorted(discover().values(), key=lambda j: j.name):
        summary = next(iter((job.function.__doc__ or "").strip().splitlines()), "")
        click.echo(f"{job.name:<22} {job.schedule:<28} {summary}")


def _postgres_instead(url, path: Path, restoring: bool) -> None:
    """On PostgreSQL the backup is pg_dump's: print the commands for this DATABASE_URL and exit with status 1."""
    from crm.backup import postgres

    click.echo("The database is PostgreSQL: back it up and restore it with pg_dump and pg_restore (README "
               "\"Backups\"), not with this command. For this DATABASE_URL (the password is not shown: pg_dump reads "
               "PGPASSWORD or ~/.pgpass):")
    click.echo(f"  backup:  {postgres.dump_command(url, str(path))}")
    click.echo(f"  restore: {postgres.restore_command(url, str(path))}")
    if restoring:
        click.echo("Stop the web app and the scheduler before restoring, and run `flask --app wsgi db upgrade` after.")
    raise click.exceptions.Exit(1)


@crm_cli.command("backup")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--overwrite", is_flag=True, help="Replace PATH if it exists.")
def backup_command(path: Path, overwrite: bool) -> None:
    """Write a consistent copy of the live SQLite database to PATH (a file, or a folder to write
    crm-<time>.sqlite3 in) while the shop keeps working."""
    from datetime import UTC, datetime

    from crm.backup import postgres, sqlite

    url = db.engine.url
    if postgres.is_postgres(url):
        _postgres_instead(url, path, restoring=False)
    if path.is_dir():
        path = path / f"crm-{sqlite.stamp(datetime.now(UTC))}.sqlite3"
    if path.exists() and not overwrite:
        raise click.ClickException(f"{path} exists: choose another path or add --overwrite.")
    try:
        written = sqlite.write_backup(sqlite.database_file(url), path)
    except sqlite.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Backup written to {written} ({written.stat().st_size} bytes; integrity check: ok).")


@crm_cli.command("restore")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask before replacing the current database.")
def restore_command(path: Path, yes: bool) -> None:
    """Replace the SQLite database with the backup at PATH after checking it (stop the web app and the
    scheduler first). The current database is kept as <name>.before-restore-<time>."""
    from datetime import UTC, datetime

    from crm.backup import postgres, sqlite

    url = db.engine.url
    if postgres.is_postgres(url):
        _postgres_instead(url, path, restoring=True)
    db.session.remove()
    db.engine.dispose()  # this process's own pooled connections would count as "in use"

    def confirm(candidate: sqlite.Candidate) -> bool:
        revision = ", ".join(sorted(candidate.revisions))
        click.echo(f"{path}: integrity check ok, migration {revision}{' (older than this app)' * candidate.older}.")
        return yes or click.confirm(f"Replace the database {database} with it?", default=False)

    try:
        database = sqlite.database_file(url)
        restored = sqlite.restore(database, path, sqlite.app_migrations(), now=datetime.now(UTC), confirm=confirm)
    except sqlite.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Restored {path} into {database}.")
    if restored.before_restore:
        click.echo(f"The database as it was is kept as {restored.before_restore} (restore that file to undo).")
    if restored.candidate.older:
        click.echo("The backup is older than this version of the CRM: run `flask --app wsgi db upgrade` before "
                   "starting the app.")
