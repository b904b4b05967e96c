"""Benchmark the busiest read pages in-process, through Flask's test client as a logged-in user.

    python -m bench.run [--database-url URL] [--requests 200] [--explain]

For each scenario: server time (p50, p95, max in ms, measured around the WSGI call) and SQL statements
per request (a before_cursor_execute listener). Writes bench/results/results-<db>.json."""

import argparse
import json
import math
import os
import platform
import random
import re
import statistics
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from sqlite3 import sqlite_version
from time import perf_counter
from urllib.parse import quote

from flask_migrate import upgrade
from sqlalchemy import event, func, select

from bench import (
    BENCH_MANAGER,
    BENCH_PASSWORD,
    BENCH_TECHNICIAN,
    DEFAULT_DATABASE_URL,
    RESULTS_DIR,
    bench_app,
    database_kind,
)
from bench.checkout import measure_checkout, summary
from bench.loyalty import generate_loyalty
from crm.auth import service as auth_service
from crm.auth.models import Role
from crm.auth.passwords import verify_password
from crm.customers.models import Customer
from crm.extensions import db
from crm.orders.models import OrderStatusChange, RepairOrder, RepairOrderLine
from crm.orders.status import CLOSED_STATUSES, OPEN_STATUSES, Status

PHONE_FRAGMENTS = ["067123", "0501", "38067", "0939", "0685", "380991"]
LATIN_NAMES = ["shev", "olena", "kovalchuk", "iryna moroz", "tkach"]
CYRILLIC_NAMES = ["шевч", "олена", "ковальчук", "ірина мороз", "ткач"]
BROAD_FRAGMENTS = ["enko", "енко", "38067", "olena"]  # enough matches for a page 5
NO_MATCH = ["zzqx", "0000000000", "щщщ"]
# What the live search sends after the first keystrokes: common ones, and rare ones (no match in the data).
SHORT_FRAGMENTS = ["ол", "о", "05", "7", "k", "ț", "щщ", "q"]
TABLES_TO_EXPLAIN = ("customers_customer", "orders_repair_order", "orders_sale", "orders_catalogue_item",
                     "orders_payment", "orders_refund")


@dataclass
class Scenario:
    name: str
    urls: list[str]
    role: str = Role.MANAGER  # who asks: the manager, the technician, or "anonymous"
    explain: tuple[str, ...] = ()  # the URLs whose queries --explain shows


def scenarios(order_ids: list[int], order_numbers: list[str], customer_ids: list[int],
              recent_days: list[str], tokens: list[str]) -> list[Scenario]:
    def q(path: str, values, extra: str = "") -> list[str]:
        return [f"{path}?q={quote(value)}{extra}" for value in values]

    def statuses(among) -> list[str]:
        return [f"/orders?status={s}" for s in Status if s in among]

    return [
        Scenario("baseline /healthz", ["/healthz"], role="anonymous"),
        Scenario("customers: empty search (page 1)", ["/customers"]),
        Scenario("customers: phone fragment", q("/customers", PHONE_FRAGMENTS),
                 explain=("/customers?q=067123", "/customers?q=38067")),
        Scenario("customers: name, Latin", q("/customers", LATIN_NAMES)),
        Scenario("customers: name, Cyrillic", q("/customers", CYRILLIC_NAMES), explain=("/customers?q=шевч",)),
        Scenario("customers: page 5 of a search", q("/customers", BROAD_FRAGMENTS, "&page=5"),
                 explain=("/customers?q=enko&page=5",)),
        Scenario("customers: no match", q("/customers", NO_MATCH), explain=("/customers?q=zzqx",)),
        Scenario("customers: 1-2 characters", q("/customers", SHORT_FRAGMENTS),
                 explain=("/customers?q=ол", "/customers?q=ț")),
        Scenario("customer profile", [f"/customers/{i}" for i in customer_ids]),
        Scenario("orders: no filter", ["/orders", "/orders?page=2", "/orders?page=3"], explain=("/orders",)),
        Scenario("orders: status, open ones", ["/orders?status=open"] + statuses(OPEN_STATUSES),
                 explain=("/orders?status=open", "/orders?status=received")),
        Scenario("orders: status, closed ones", statuses(CLOSED_STATUSES),
                 explain=("/orders?status=picked_up",)),
        Scenario("orders: text, phone fragment", q("/orders", PHONE_FRAGMENTS), explain=("/orders?q=067123",)),
        Scenario("orders: text, name fragment", q("/orders", LATIN_NAMES + CYRILLIC_NAMES)),
        Scenario("orders: text, no match", q("/orders", NO_MATCH), explain=("/orders?q=zzqx",)),
        Scenario("orders: text, 1-2 characters", q("/orders", SHORT_FRAGMENTS), explain=("/orders?q=ț",)),
        Scenario("orders: text, order number", q("/orders", order_numbers), explain=q("/orders", order_numbers[:1])),
        Scenario("orders: technician queue", ["/orders/queue", "/orders/queue?page=2"], role=Role.TECHNICIAN,
                 explain=("/orders/queue",)),
        Scenario("orders: detail page", [f"/orders/{i}" for i in order_ids]),
        Scenario("customer tracking page", [f"/t/{token}" for token in tokens], role="anonymous",
                 explain=tuple(f"/t/{token}" for token in tokens[:1])),
        Scenario("sales: list", ["/sales", "/sales?page=2", "/sales?page=40"], explain=("/sales?page=40",)),
        Scenario("sales: find by receipt number", ["/sales?q=S-000120", "/sales?q=s-001000"]),
        Scenario("catalogue: search", ["/catalogue?q=case", "/catalogue?q=acc-0004", "/catalogue?q=iphone"]),
        Scenario("sales: end-of-day report", [f"/sales/end-of-day?day={d}" for d in recent_days],
                 explain=(f"/sales/end-of-day?day={recent_days[0]}",)),
        *REPORTS,
    ]


# The manager's reports (issue 14): one year of the dashboard, three years of the Loyalty report's cohorts, one
# year of the staff report. Slow pages: bench.run --reports-only measures these alone (fewer requests).
REPORTS = [
    Scenario("reports: dashboard, this year", ["/reports?period=this_year"]),
    Scenario("reports: loyalty report, last 3 years", ["/reports/loyalty?period=custom&start=2024-01-01"
                                                        "&end=2026-12-31"]),
    Scenario("reports: staff performance, this year", ["/reports/staff?period=this_year"]),
]


class Meter:
    """Wraps the app's WSGI callable to time each request, and counts the SQL statements it runs."""

    def __init__(self, app, engine):
        self.wsgi_app, app.wsgi_app = app.wsgi_app, self
        self.statements = 0
        self.elapsed_ms = 0.0
        self.captured: list | None = None
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, _conn, _cursor, statement, parameters, _context, _executemany):
        self.statements += 1
        if self.captured is not None:
            self.captured.append((statement, parameters))

    def __call__(self, environ, start_response):
        self.statements = 0
        started = perf_counter()
        response = self.wsgi_app(environ, start_response)
        try:
            body = b"".join(response)
        finally:
            getattr(response, "close", lambda: None)()
        self.elapsed_ms = (perf_counter() - started) * 1000
        return [body]


def ensure_bench_users(session) -> None:
    """The two accounts the benchmark logs in with, created (or their password reset) when needed."""
    for username, role in ((BENCH_MANAGER, Role.MANAGER), (BENCH_TECHNICIAN, Role.TECHNICIAN)):
        user = auth_service.find_by_username(session, username)
        if user is None:
            auth_service.create_staff(session, username=username, full_name=f"Bench {role.label}", role=role,
                                      password=BENCH_PASSWORD)
        elif not verify_password(user.password_hash, BENCH_PASSWORD) or user.failed_logins:
            auth_service.set_password(session, user, BENCH_PASSWORD)
    session.commit()


def logged_in_client(app, username: str | None):
    client = app.test_client()
    if username is None:
        return client
    page = client.get("/login")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
    if token is None:
        sys.exit("No CSRF token on the login page.")
    response = client.post("/login", data={"username": username, "password": BENCH_PASSWORD,
                                           "csrf_token": token.group(1)})
    if response.status_code != 302 or "/login" in response.headers.get("Location", ""):
        sys.exit(f"Could not log in as {username}: HTTP {response.status_code}.")
    return client


def nearest_rank(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def measure(client, meter: Meter, scenario: Scenario, requests: int) -> dict:
    for url in scenario.urls[:5]:  # warm-up: compiled SQL, templates, connection pool
        client.get(url)
    times, counts = [], []
    for i in range(requests):
        url = scenario.urls[i % len(scenario.urls)]
        response = client.get(url)
        if response.status_code != 200:
            sys.exit(f"{scenario.name}: GET {url} answered HTTP {response.status_code}.")
        times.append(meter.elapsed_ms)
        counts.append(meter.statements)
    return {"name": scenario.name, "p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(nearest_rank(times, 0.95), 2), "max_ms": round(max(times), 2),
            "sql_min": min(counts), "sql_max": max(counts), "urls": scenario.urls[:6]}


def explain(client, meter: Meter, scenario: Scenario, url: str, engine) -> None:
    """Print the plan of each customer or order query that GET ``url`` runs, with its parameters."""
    meter.captured = []
    client.get(url)
    captured, meter.captured = meter.captured, None
    postgres = engine.dialect.name == "postgresql"
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if postgres else "EXPLAIN QUERY PLAN "
    for statement, parameters in captured:
        if not statement.lstrip().upper().startswith("SELECT") or not any(
                f"FROM {table}" in statement for table in TABLES_TO_EXPLAIN):
            continue
        print(f"\n=== {scenario.name}: GET {url}")
        shown = re.sub(r"^SELECT .*? FROM ", "SELECT ... FROM ", re.sub(r"\s+", " ", statement).strip())
        print(shown, "\n-- parameters:", parameters)
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(prefix + statement, parameters).all()
        if postgres:
            print("\n".join(row[0] for row in rows))
        else:
            depth = {0: -1}
            for node, parent, _unused, detail in rows:
                depth[node] = depth.get(parent, -1) + 1
                print("  " * depth[node] + detail)


def samples(session, rng: random.Random) -> tuple[list[int], list[str], list[int], list[str]]:
    top = session.scalar(select(func.max(RepairOrder.id))) or 0
    candidates = rng.sample(range(1, top + 1), min(top, 60))
    orders = session.execute(select(RepairOrder.id, RepairOrder.number, RepairOrder.customer_id,
                                    RepairOrder.tracking_token)
                             .where(RepairOrder.id.in_(candidates)).order_by(RepairOrder.id)).all()
    rng.shuffle(orders)
    return ([o.id for o in orders[:50]], [o.number for o in orders[:10]], [o.customer_id for o in orders[:50]],
            [o.tracking_token for o in orders[:50]])


def table_counts(session) -> dict:
    return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (Customer, RepairOrder, RepairOrderLine, OrderStatusChange)}


def print_table(results: list[dict]) -> None:
    print(f"\n{'scenario':<36} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'SQL/req':>8}")
    for r in results:
        sql = str(r["sql_min"]) if r["sql_min"] == r["sql_max"] else f"{r['sql_min']}-{r['sql_max']}"
        print(f"{r['name']:<36} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f} {r['max_ms']:>8.1f} {sql:>8}")


def run(args) -> None:
    app = bench_app(args.database_url)
    kind = database_kind(args.database_url)
    with app.app_context():
        upgrade()  # a database generated before the latest migration gets its new indexes
        engine = db.engine
        counts = table_counts(db.session)
        if not counts["customers_customer"]:
            sys.exit("No customers in this database: run python -m bench.generate first.")
        ensure_bench_users(db.session)
        # A database generated before the loyalty release gets its members now.
        generate_loyalty(db.engine, random.Random(args.seed), now=datetime.now(UTC))
        order_ids, order_numbers, customer_ids, tokens = samples(db.session, random.Random(args.seed))
        server = db.session.scalar(select(func.version())) if kind == "postgresql" else f"SQLite {sqlite_version}"
        db.session.remove()
    meter = Meter(app, engine)
    clients = {Role.MANAGER: logged_in_client(app, BENCH_MANAGER),
               Role.TECHNICIAN: logged_in_client(app, BENCH_TECHNICIAN),
               "anonymous": logged_in_client(app, None)}
    recent_days = [(datetime.now(UTC).date() - timedelta(days=n)).isoformat() for n in range(1, 8)]
    plan = scenarios(order_ids, order_numbers, customer_ids, recent_days, tokens)
    if args.reports_only:
        plan = REPORTS
    if args.only:
        plan = [scenario for scenario in plan if any(word in scenario.name for word in args.only)]
    print(f"{server}; rows: {counts}; {args.requests} requests per scenario")
    if args.explain:
        for scenario in plan:
            for url in scenario.explain:
                explain(clients[scenario.role], meter, scenario, url, engine)
        return
    results = []
    for scenario in plan:
        results.append(measure(clients[scenario.role], meter, scenario, args.requests))
        print(f"  {scenario.name}: p50 {results[-1]['p50_ms']} ms", flush=True)
    if not (args.reports_only or args.only):
        results += measure_checkout(app, clients[Role.MANAGER], meter, args.requests, random.Random(args.seed),
                                    summary(nearest_rank))
    print_table(results)
    if args.only:
        return
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"results-{kind}.json"
    path.write_text(json.dumps({
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "database": {"kind": kind, "server": server,
                     "url": engine.url.render_as_string(hide_password=True)},
        "rows": counts, "requests_per_scenario": args.requests, "results": results,
    }, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwritten {path.relative_to(RESULTS_DIR.parent.parent)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--requests", type=int, default=200, help="requests per scenario")
    parser.add_argument("--explain", action="store_true", help="print the query plans instead of timing")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--reports-only", action="store_true", help="only the manager's report pages")
    parser.add_argument("--only", action="append", metavar="TEXT",
                        help="only the scenarios whose name contains TEXT (repeatable; no checkout, no results file)")
    args = parser.parse_args(argv)
    run(args)


if __name__ == "__main__":
    main()
