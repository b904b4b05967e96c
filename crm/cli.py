"""`flask --app wsgi crm ...` commands."""

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
def demo(customers: int, seed: int) -> None:
    """Load demo data once: one login per role, customers and orders in every status."""
    from crm.demo import DEMO_LOGINS, load_demo

    if current_app.config["PRODUCTION"]:
        raise click.ClickException("Refusing to load demo data in production (CRM_CONFIG=production): its staff "
                                   "logins have published passwords. Create real accounts with `crm create-user`.")

    if load_demo(db.session, customers=customers, seed=seed, region=current_app.config["PHONE_REGION"],
                 number_prefix=current_app.config["ORDER_NUMBER_PREFIX"],
                 sale_prefix=current_app.config["SALE_NUMBER_PREFIX"]):
        db.session.commit()
        click.echo("Demo data loaded.")
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


@crm_cli.command("rebuild-search-index")
def rebuild_search_index() -> None:
    """Index every customer and order again for the search (SQLite's FTS5 tables; docs/search.md)."""
    from crm.search_index import rebuild

    if rebuild(db.session):
        db.session.commit()
        click.echo("Search index rebuilt.")
    else:
        click.echo("Nothing to rebuild: PostgreSQL searches with its trigram indexes.")
