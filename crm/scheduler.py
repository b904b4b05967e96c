"""The scheduler: APScheduler runs the jobs of crm/jobs.py's register.

One scheduler process per installation (``flask --app wsgi crm scheduler``). APScheduler 3 cannot share
a job store between processes, so a scheduler per gunicorn worker would run every job once per worker:
the web process starts one only when SCHEDULER_IN_WEB is set, at the first request it serves (so
never in the development reloader's watcher or a CLI command), and never under gunicorn. Jobs are
idempotent anyway (see crm/jobs.py), so an accidental second scheduler costs work, not double messages
or bonuses."""

import logging
import sys
import threading
from datetime import UTC, date, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from crm.extensions import db
from crm.jobs import Job, discover
from crm.shop_time import shop_tz, utc_from_local

log = logging.getLogger(__name__)
_started_in_process = threading.Lock()
_web_scheduler: BackgroundScheduler | None = None


def run_job(app: Flask, name: str, *, now: datetime | None = None) -> object:
    """Run one job once, in its own app context and session; the session is rolled back on failure and
    removed afterwards. Returns what the job returned (a count or a summary)."""
    jobs = discover()
    if name not in jobs:
        raise KeyError(name)
    with app.app_context():
        try:
            result = jobs[name].function(db.session, now or datetime.now(UTC))
            db.session.commit()
            return result
        except Exception:
            db.session.rollback()
            log.exception("job %s failed", name)
            raise
        finally:
            db.session.remove()


def as_of(day: date) -> datetime:
    """The moment a job runs "as of" a day: noon in the shop's time zone."""
    return utc_from_local(day, 12 * 60)


def _trigger(job: Job):
    if job.every_seconds:
        return IntervalTrigger(seconds=job.every_seconds)
    hour, minute = (int(part) for part in job.at.split(":"))
    return CronTrigger(hour=hour, minute=minute, timezone=shop_tz())


def build(app: Flask, scheduler_class=BlockingScheduler):
    """A scheduler with every registered job: coalesced, one instance at a time, and a generous
    misfire grace (a job missed while the process was down runs once when it is back; the jobs'
    own catch-up queries do the rest)."""
    with app.app_context():
        scheduler = scheduler_class(timezone=shop_tz())
        for job in discover().values():
            scheduler.add_job(_safe_run, _trigger(job), args=(app, job.name), id=job.name, name=job.name,
                              coalesce=True, max_instances=1, misfire_grace_time=3600, replace_existing=True)
    return scheduler


def _safe_run(app: Flask, name: str) -> None:
    try:
        result = run_job(app, name)
        log.info("job %s: %s", name, result)
    except Exception:  # logged by run_job; the scheduler keeps running the other jobs
        pass


def should_run_in_web(app: Flask) -> bool:
    if not app.config.get("SCHEDULER_IN_WEB") or app.testing:
        return False
    if "gunicorn" in sys.modules:
        log.warning("SCHEDULER_IN_WEB is ignored under gunicorn: run `flask --app wsgi crm scheduler` once.")
        return False
    return True


def start_in_web(app: Flask) -> None:
    """When the settings ask for it, start the background scheduler at the first request this process
    serves, once. Only a serving process gets requests: not the development reloader's watcher, not a
    CLI command such as ``crm scheduler`` or ``db upgrade``."""
    if not should_run_in_web(app):
        return

    @app.before_request
    def start_scheduler_once():
        global _web_scheduler
        with _started_in_process:
            if _web_scheduler is None:
                _web_scheduler = build(app, BackgroundScheduler)
                _web_scheduler.start()
                log.warning("scheduler started inside the web process (SCHEDULER_IN_WEB; development only)")
