"""Time the daily scheduled jobs over the bench database, and the outbox's dispatch rate to a local SMTP server.

    python -m bench.jobs [--database-url URL] [--messages 2000] [--day YYYY-MM-DD]

Needs the database of ``python -m bench.generate`` (migrated and topped up with loyalty members the
way bench.run does it). An SMTP server (aiosmtpd) runs in this process on 127.0.0.1 and the app's
e-mail channel points at it (MAIL_SERVER / MAIL_PORT; SMS and Telegram stay unset), so the jobs'
messages go to the e-mail channel for customers with an address (about 40%) and are "skipped" for
the others, as in a shop that only has e-mail.

The bench day
    Every job runs "as of" one fixed moment ``now``: noon, shop time, of the bench day (``--day``).
    By default the bench day is two days after the loyalty data was generated (its opening lots
    expire 1 to 330 days after that, so one or two days of lots are past expiry) or, when this
    benchmark already ran on the database, the day after the last bench day (found from the
    birthday, anniversary and expiry messages the jobs left in the outbox). A rerun therefore
    benchmarks the next day, a steady-state day, while the first run on a fresh database catches up
    the whole window: the jobs' effects are real (bonuses, expiries, messages) and are not undone,
    so running the same day twice would find it done.

Preparation (set-based, before any timing; running it again changes nothing)
    1. Members without ``first_purchase_at`` get the time of their first paid sale, or their
       enrolment time when they have none (one UPDATE with a correlated MIN). The generator leaves
       it NULL; checkout sets it only from the first payment on.
    2. ``first_purchase_mmdd`` is filled where NULL from that time in the shop's time zone (computed
       in Python, SQLite has no time zones; one executemany UPDATE), so about 1/365 of the members
       with a first purchase before this year have their anniversary on any day.
    3. The generator gives about half of the customers a birthday on days 1-28 of a month, about 60
       members a day. If fewer than 50 members have their birthday on the bench day (the 29th-31st),
       members without a birthday whose id is the bench day's residue modulo 331 get one on it
       (one UPDATE; the next time the count is reached and nothing changes).
    4. The device-lifecycle reminders (crm.orders.reminders): picked-up orders without a kind of repair get
       one by their id (one UPDATE per kind, id modulo 6: screen, battery, liquid damage, charging port,
       software, other), and the check-up is switched on for battery (12 months, with a coupon template
       "Bench check-up"), liquid damage (1 month) and screen (6 months); the warranty reminder keeps its
       defaults (14 days before the end; every generated order has 90 days of warranty).

Each daily job, in the order of the schedule, is run twice through ``crm.scheduler.run_job`` (its own
app context and session, like the scheduler): the first run does the day's work, the second must find
nothing left. Per run: wall time, the count the job returns, the SQL statements executed (a
``before_cursor_execute`` listener; on SQLite the BEGIN of every transaction is one of them) and the
outbox rows it added.

Dispatch rate: ``--messages`` "welcome" messages to bench<n>@example.com (no customer, dedupe key
``bench-dispatch:<n>``) are enqueued, then ``dispatch()`` runs in rounds of 200 until none is left.
Every one must arrive at the SMTP server exactly once and end "sent"; the run fails otherwise. They
are enqueued at a moment before any other due row of the outbox, and dispatched as of that moment,
so messages that the jobs (or checkouts) left pending are not sent along. The rows are deleted
afterwards (and any left by an interrupted run, before).

Writes bench/results/jobs-<sqlite|postgresql>.json."""

import argparse
import json
import os
import platform
import random
import socket
import sys
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from sqlite3 import sqlite_version
from time import perf_counter

from aiosmtpd.controller import Controller
from flask_migrate import upgrade
from sqlalchemy import bindparam, delete, event, func, select, update

from bench import DEFAULT_DATABASE_URL, RESULTS_DIR, bench_app, database_kind
from bench.loyalty import generate_loyalty
from crm.customers.models import Customer
from crm.extensions import db
from crm.jobs import discover
from crm.loyalty.models import Account, CouponTemplate, LedgerEntry
from crm.notifications.dispatch import dispatch
from crm.notifications.models import OutboxMessage
from crm.notifications.outbox import Recipient, enqueue
from crm.orders import reminders
from crm.orders.device import REPAIR_KINDS
from crm.orders.models import RepairOrder
from crm.sales.models import Sale
from crm.scheduler import as_of, run_job
from crm.shop_time import local_date, mmdd, utc_from_local

DISPATCH_KEY = "bench-dispatch:"
# Messages only the daily jobs write.
JOB_EVENTS = ("birthday", "anniversary", "points_expiring", "warranty_ending", "checkup_reminder")
MIN_BIRTHDAYS = 50
BIRTHDAY_MODULUS = 331
ROUND = 200


# --- the SMTP server ------------------------------------------------------------------------------

def free_port() -> int:
    """A free TCP port on 127.0.0.1 (aiosmtpd cannot be given port 0: its start-up check connects to it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SmtpSink:
    """aiosmtpd handler that accepts everything and records each message's recipients."""

    def __init__(self):
        self.recipients: list[str] = []
        self.messages = 0

    async def handle_DATA(self, server, session, envelope):
        self.recipients.extend(envelope.rcpt_tos)
        self.messages += 1
        return "250 Message accepted for delivery"


def start_smtp() -> tuple[Controller, SmtpSink]:
    sink = SmtpSink()
    # server_hostname: without it aiosmtpd looks up this machine's FQDN.
    controller = Controller(sink, hostname="127.0.0.1", port=free_port(), server_hostname="localhost")
    controller.start()
    return controller, sink


# --- counting statements --------------------------------------------------------------------------

class StatementCounter:
    def __init__(self, engine):
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_args):
        self.count += 1


# --- the bench day and its preparation ------------------------------------------------------------

def default_day(session) -> date:
    """Two days after the loyalty data was made, or the day after the last bench day (see the docstring)."""
    opened = session.scalar(select(func.min(LedgerEntry.created_at))
                            .where(LedgerEntry.idempotency_key.like("bench:%")))
    generated = opened + timedelta(days=30) if opened else datetime.now(UTC)  # bench.loyalty: created 30 days back
    day = local_date(generated) + timedelta(days=2)
    last = session.scalar(select(func.max(OutboxMessage.created_at)).where(OutboxMessage.event.in_(JOB_EVENTS)))
    if last is not None:
        day = max(day, local_date(last) + timedelta(days=1))
    return day


def prepare(session, day: date) -> dict:
    """The due work of a realistic day (see the docstring). Idempotent."""
    started = perf_counter()
    first_sale = (select(func.min(Sale.paid_at)).where(Sale.customer_id == Account.customer_id, Sale.status == "paid")
                  .scalar_subquery())
    first_purchases = session.execute(
        update(Account).where(Account.first_purchase_at.is_(None))
        .values(first_purchase_at=func.coalesce(first_sale, Account.enrolled_at))
        .execution_options(synchronize_session=False)).rowcount
    session.commit()

    missing = session.execute(select(Account.customer_id, Account.first_purchase_at)
                              .where(Account.first_purchase_mmdd.is_(None), Account.first_purchase_at.is_not(None))
                              ).all()
    if missing:
        session.execute(update(Account.__table__).where(Account.__table__.c.customer_id == bindparam("cid"))
                        .values(first_purchase_mmdd=bindparam("code")),
                        [{"cid": cid, "code": mmdd(local_date(at))} for cid, at in missing])
    session.commit()

    member = select(Account.customer_id).scalar_subquery()
    code = mmdd(day)
    birthdays = session.scalar(select(func.count()).select_from(Account)
                               .join(Customer, Customer.id == Account.customer_id)
                               .where(Customer.birthday_mmdd == code))
    birthdays_added = 0
    if birthdays < MIN_BIRTHDAYS:
        residue = day.toordinal() % BIRTHDAY_MODULUS
        birthdays_added = session.execute(
            update(Customer).where(Customer.birthday.is_(None), Customer.id.in_(member),
                                   Customer.id % BIRTHDAY_MODULUS == residue)
            .values(birthday=date(1984, day.month, day.day), birthday_mmdd=code)  # 1984: 29 February exists
            .execution_options(synchronize_session=False)).rowcount
        session.commit()
    kinds_set = prepare_reminders(session, now=utc_from_local(day))
    summary = {"repair_kinds_set": kinds_set, "first_purchase_at_filled": first_purchases,
               "first_purchase_mmdd_filled": len(missing),
               "members_with_birthday_on_day": birthdays + birthdays_added, "birthdays_added": birthdays_added,
               "seconds": round(perf_counter() - started, 2)}
    print(f"prepared in {summary['seconds']} s: first purchase set for {first_purchases:,} members, month-day for "
          f"{len(missing):,}; {summary['members_with_birthday_on_day']} members have their birthday on {day} "
          f"({birthdays_added} added)", flush=True)
    return summary


BENCH_CHECKUPS = {"battery": 12, "liquid_damage": 1, "screen": 6}


def prepare_reminders(session, *, now: datetime) -> int:
    """Kinds of repair for the picked-up orders without one, and the check-up settings (see the docstring)."""
    kinds = list(REPAIR_KINDS)
    updated = 0
    for index, kind in enumerate(kinds):
        updated += session.execute(
            update(RepairOrder).where(RepairOrder.status == "picked_up", RepairOrder.repair_kind == "",
                                      RepairOrder.id % len(kinds) == index)
            .values(repair_kind=kind).execution_options(synchronize_session=False)).rowcount
    template = session.scalar(select(CouponTemplate).where(CouponTemplate.name == "Bench check-up"))
    if template is None:
        template = CouponTemplate(name="Bench check-up", kind="percent", value=1000, categories="repair_labour",
                                  min_bill_minor=0, validity_days=60, active=True)
        session.add(template)
        session.flush()
    reminders.save_reminder_settings(
        session, warranty_enabled=True, warranty_days_before=14, actor=None, now=now,
        checkups={kind: reminders.CheckupSetting(True, months, template.id if kind == "battery" else None)
                  for kind, months in BENCH_CHECKUPS.items()})
    session.commit()
    return updated


# --- the jobs -------------------------------------------------------------------------------------

def outbox_rows_at(app, moment: datetime) -> int:
    with app.app_context():
        try:
            return db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                     .where(OutboxMessage.created_at == moment))
        finally:
            db.session.remove()


def time_run(app, counter: StatementCounter, name: str, now: datetime) -> dict:
    before = outbox_rows_at(app, now)
    counter.count = 0
    started = perf_counter()
    result = run_job(app, name, now=now)
    elapsed = (perf_counter() - started) * 1000
    statements = counter.count
    return {"count": result, "ms": round(elapsed, 1), "statements": statements,
            "messages": outbox_rows_at(app, now) - before}


def time_jobs(app, counter: StatementCounter, now: datetime) -> list[dict]:
    daily = sorted((job for job in discover().values() if job.at), key=lambda job: (job.at, job.name))
    results = []
    for job in daily:
        first = time_run(app, counter, job.name, now)
        second = time_run(app, counter, job.name, now)
        results.append({"job": job.name, "at": job.at, "first": first, "second": second})
        print(f"  {job.name}: {first['count']} in {first['ms']:.0f} ms ({first['statements']} SQL), "
              f"again: {second['count']} in {second['ms']:.0f} ms ({second['statements']} SQL)", flush=True)
    return results


# --- the dispatch rate ----------------------------------------------------------------------------

def remove_bench_messages(session) -> int:
    removed = session.execute(delete(OutboxMessage).where(OutboxMessage.dedupe_key.like(DISPATCH_KEY + "%"))
                              .execution_options(synchronize_session=False)).rowcount
    session.commit()
    return removed


def enqueue_moment(session) -> datetime:
    """Now, or just before the earliest row any dispatcher could take, so that only ours are due."""
    moment = datetime.now(UTC).replace(microsecond=0)
    earliest = [
        session.scalar(select(func.min(OutboxMessage.next_attempt_at)).where(OutboxMessage.status == "pending")),
        session.scalar(select(func.min(OutboxMessage.claimed_until)).where(OutboxMessage.status == "sending")),
    ]
    for other in filter(None, earliest):
        moment = min(moment, other - timedelta(seconds=1))
    return moment


def measure_dispatch(app, counter: StatementCounter, sink: SmtpSink, count: int) -> dict:
    with app.app_context():
        session = db.session
        try:
            left_over = remove_bench_messages(session)
            if left_over:
                print(f"  removed {left_over} bench messages left by an earlier run")
            moment = enqueue_moment(session)
            shop = {"shop_name": app.config["SHOP_NAME"], "shop_phone": app.config["SHOP_PHONE"]}
            counter.count = 0
            started = perf_counter()
            for n in range(count):
                enqueue(session, Recipient(customer_id=None, name=f"Bench customer {n}", email=f"bench{n}@example.com"),
                        "welcome", {**shop, "customer_name": f"Bench customer {n}", "points_balance": 50,
                                    "referral_code": f"B{n:07d}"},
                        dedupe_key=f"{DISPATCH_KEY}{n}", now=moment)
            session.commit()
            enqueue_s, enqueue_sql = perf_counter() - started, counter.count
            pending = session.scalar(select(func.count()).select_from(OutboxMessage).where(
                OutboxMessage.dedupe_key.like(DISPATCH_KEY + "%"), OutboxMessage.status == "pending",
                OutboxMessage.channel == "email"))
            if pending != count:
                sys.exit(f"Dispatch: {pending} of {count} bench messages are pending on the e-mail channel.")

            received_before = len(sink.recipients)
            rounds, outcome = 0, Counter()
            counter.count = 0
            started = perf_counter()
            while True:
                result = dispatch(session, now=moment, limit=ROUND)
                rounds += 1
                outcome.update(sent=result.sent, retrying=result.retrying, failed=result.failed)
                if not result.claimed:
                    break
            seconds, statements = perf_counter() - started, counter.count
            received = sink.recipients[received_before:]
            statuses = dict(session.execute(
                select(OutboxMessage.status, func.count()).where(OutboxMessage.dedupe_key.like(DISPATCH_KEY + "%"))
                .group_by(OutboxMessage.status)).all())
        finally:
            session.rollback()
            remove_bench_messages(session)
            db.session.remove()
    expected = Counter(f"bench{n}@example.com" for n in range(count))
    if Counter(received) != expected or statuses != {"sent": count}:
        extra = sorted((Counter(received) - expected).elements())[:5]
        missing = sorted((expected - Counter(received)).elements())[:5]
        sys.exit(f"Dispatch: the SMTP server received {len(received)} messages for {count} enqueued "
                 f"(unexpected: {extra}, missing: {missing}); outbox statuses {statuses}; "
                 f"dispatch said {dict(outcome)}.")
    return {"messages": count, "rounds": rounds, "seconds": round(seconds, 2),
            "per_second": round(count / seconds, 1), "ms_per_message": round(seconds * 1000 / count, 2),
            "statements": statements, "statements_per_message": round(statements / count, 2),
            "received_by_smtp": len(received), "enqueue_seconds": round(enqueue_s, 2),
            "enqueue_per_second": round(count / enqueue_s, 1), "enqueue_statements": enqueue_sql}


# --- output ---------------------------------------------------------------------------------------

def table_counts(session) -> dict:
    return {
        "customers": session.scalar(select(func.count()).select_from(Customer)),
        "customers_with_email": session.scalar(select(func.count()).select_from(Customer)
                                               .where(Customer.email.is_not(None))),
        "members": session.scalar(select(func.count()).select_from(Account)),
        "ledger_entries": session.scalar(select(func.count()).select_from(LedgerEntry)),
        "outbox_rows": session.scalar(select(func.count()).select_from(OutboxMessage)),
    }


def print_table(jobs: list[dict], rate: dict) -> None:
    print(f"\n{'job':<22} {'due':>6} {'1st ms':>9} {'SQL':>7} {'msgs':>6} | {'again':>5} {'2nd ms':>7} {'SQL':>4}")
    for r in jobs:
        first, second = r["first"], r["second"]
        print(f"{r['job']:<22} {first['count']:>6} {first['ms']:>9.1f} {first['statements']:>7} {first['messages']:>6} "
              f"| {second['count']:>5} {second['ms']:>7.1f} {second['statements']:>4}")
    print(f"\ndispatch: {rate['messages']} e-mails in {rate['seconds']} s = {rate['per_second']}/s "
          f"({rate['ms_per_message']} ms each, {rate['statements_per_message']} SQL each, {rate['rounds']} rounds); "
          f"enqueue {rate['enqueue_per_second']}/s; the SMTP server received {rate['received_by_smtp']}")


def run(args) -> None:
    kind = database_kind(args.database_url)
    controller, sink = start_smtp()
    try:
        app = bench_app(args.database_url)
        # E-mail only, to the server above; no scheduler in this process.
        app.config.update(MAIL_SERVER=controller.hostname, MAIL_PORT=controller.port, MAIL_SECURITY="none",
                          MAIL_USERNAME="", MAIL_FROM="Bench shop <shop@bench.example>", MAIL_TIMEOUT=10,
                          SMS_GATEWAY_URL="", TELEGRAM_BOT_TOKEN="", SCHEDULER_IN_WEB=False)
        with app.app_context():
            upgrade()  # a database generated before the notifications release gets its tables
            engine = db.engine
            session = db.session
            if not session.scalar(select(func.count()).select_from(Customer)):
                sys.exit("No customers in this database: run python -m bench.generate first.")
            session.commit()  # SQLite: the session's transaction holds the write lock
            generate_loyalty(engine, random.Random(args.seed), now=datetime.now(UTC))
            day = date.fromisoformat(args.day) if args.day else default_day(session)
            now = as_of(day)
            preparation = prepare(session, day)
            counts = table_counts(session)
            server = session.scalar(select(func.version())) if kind == "postgresql" else f"SQLite {sqlite_version}"
            session.remove()
        counter = StatementCounter(engine)
        print(f"{server}; rows: {counts}\nbench day {day}, now = {now.isoformat()}", flush=True)
        jobs = time_jobs(app, counter, now)
        print(f"dispatching {args.messages} messages to {controller.hostname}:{controller.port}", flush=True)
        rate = measure_dispatch(app, counter, sink, args.messages)
    finally:
        controller.stop()
    print_table(jobs, rate)
    busy = [r["job"] for r in jobs if r["second"]["count"]]
    if busy:
        print(f"\nWARNING: the second run still found work: {', '.join(busy)}")
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"jobs-{kind}.json"
    path.write_text(json.dumps({
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "database": {"kind": kind, "server": server, "url": engine.url.render_as_string(hide_password=True)},
        "rows": counts, "bench_day": day.isoformat(), "now": now.isoformat(), "preparation": preparation,
        "jobs": jobs, "dispatch": rate,
    }, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwritten {path.relative_to(RESULTS_DIR.parent.parent)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.jobs", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--messages", type=int, default=2000, help="messages for the dispatch rate")
    parser.add_argument("--day", help="the bench day, YYYY-MM-DD (default: see the module's docstring)")
    parser.add_argument("--seed", type=int, default=7, help="for the loyalty top-up of an older database")
    args = parser.parse_args(argv)
    if args.messages < 1:
        parser.error("--messages must be at least 1")
    if args.day:
        try:
            date.fromisoformat(args.day)
        except ValueError:
            parser.error("--day must be YYYY-MM-DD")
    run(args)


if __name__ == "__main__":
    main()
