"""Throughput: the CRM under gunicorn beside a bare Flask app with one indexed lookup, loaded in the same run.

    python -m bench.throughput [--database-url URL] [--seconds 10] [--connections 16] [--workers 4]

Starts both apps with gunicorn (sync workers) on the benchmark database, logs in as the bench manager and
technician over HTTP, loads every page of bench.run's scenarios with wrk (16 connections) and prints req/s, latency
percentiles, errors and the ratio to the bare page. The checkout (open bills paid with and without points) is
driven by a Python client, and the bare page is measured with that client too for its ratio. Writes
bench/results/throughput-<db>.json."""

import argparse
import json
import os
import random
import re
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from flask_migrate import upgrade
from sqlalchemy import select

from bench import (
    BENCH_MANAGER,
    BENCH_PASSWORD,
    BENCH_TECHNICIAN,
    DEFAULT_DATABASE_URL,
    RESULTS_DIR,
    bench_app,
    database_kind,
)
from bench.checkout import _open_bill
from bench.load import Result, get, post, python_client, wrk
from bench.loyalty import generate_loyalty
from bench.run import Scenario, ensure_bench_users, samples, scenarios
from crm.auth.models import Role
from crm.catalogue.models import CatalogueItem
from crm.extensions import db
from crm.loyalty.models import Account
from crm.sales import checkout
from crm.sales.models import Sale, SaleStatus

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
UNLIMITED = "1000000 per minute"  # the limits guard against one client; here one client is the whole load


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(target: str, port: int, workers: int, env: dict) -> subprocess.Popen:
    command = [GUNICORN, "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning", target]
    return subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env})


def wait_ready(port: int, path: str, process: subprocess.Popen) -> None:
    import http.client

    for _ in range(200):
        if process.poll() is not None:
            sys.exit(f"gunicorn on port {port} exited with {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", path)
            if connection.getresponse().status < 500:
                return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"gunicorn on port {port} did not answer")


def _session_cookie(headers) -> str:
    for name, value in headers:
        if name.lower() == "set-cookie" and value.startswith("session="):
            return value.split(";", 1)[0]
    return ""


def login(port: int, username: str) -> str:
    """Log in through the login form, as a browser does (CSRF on); the session cookie."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", "/login")
    response = connection.getresponse()
    page, cookie = response.read().decode(), _session_cookie(response.getheaders())
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    if token is None:
        sys.exit("no CSRF token on the login page")
    body = urlencode({"username": username, "password": BENCH_PASSWORD, "csrf_token": token.group(1)})
    connection.request("POST", "/login", body=body, headers={"Cookie": cookie,
                                                            "Content-Type": "application/x-www-form-urlencoded"})
    response = connection.getresponse()
    response.read()
    if response.status != 302 or "/login" in (response.getheader("Location") or ""):
        sys.exit(f"could not log in as {username}: HTTP {response.status}")
    return _session_cookie(response.getheaders()) or cookie


def _field(html: str, name: str) -> str | None:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', html)
    return match.group(1) if match else None


def checkout_step(bills: list[int], cookie: str, with_points: bool):
    """One round: the cart page of the next prepared bill (not timed), then its payment POST (timed)."""
    lock = threading.Lock()

    def step(connection):
        with lock:
            if not bills:
                return False, 0.0
            sale_id = bills.pop()
        status, html, _ = get(connection, f"/sales/{sale_id}" + ("?use_max=y" if with_points else ""), cookie)
        total = _field(html, "expected_total") if status == 200 else None
        if total is None:
            return False, 0.0
        form = {"csrf_token": _field(html, "csrf_token"), "key": _field(html, "key"), "expected_total": total,
                "loyalty_points": _field(html, "loyalty_points") or "", "loyalty_coupon": "",
                "pay_1": f"{int(total) // 100}.{int(total) % 100:02d}"}
        status, headers, elapsed = post(connection, f"/sales/{sale_id}/pay", urlencode(form), cookie)
        return status == 302 and "/paid" in headers.get("Location", ""), elapsed

    return step


def prepare(app, seed: int, bills: int) -> dict:
    """Users, loyalty members, the scenario URLs and the bills the checkout scenario pays (opened by the service,
    before any load)."""
    rng = random.Random(seed)
    with app.app_context():
        upgrade()
        ensure_bench_users(db.session)
        generate_loyalty(db.engine, rng, now=datetime.now(UTC))
        order_ids, order_numbers, customer_ids, tokens = samples(db.session, rng)
        items = db.session.scalar(select(db.func.count(CatalogueItem.id)))
        top = db.session.scalar(select(db.func.max(Sale.customer_id))) or 1
        members = list(db.session.scalars(select(Account.customer_id).where(Account.balance > 100).limit(5000)))
        db.session.remove()
        plain = [_open_bill(rng, items, top) for _ in range(bills)]
        with_points = [_open_bill(rng, items, top, members) for _ in range(bills)] if members else []
    days = [(datetime.now(UTC).date() - timedelta(days=n)).isoformat() for n in range(1, 8)]
    plan = [Scenario("login page", ["/login"], role="anonymous"),
            *[s for s in scenarios(order_ids, order_numbers, customer_ids, days, tokens)
              if s.urls != ["/healthz"] and not s.name.startswith("reports:")]]  # reports: bench.run --reports-only
    return {"plan": plan, "plain": plain, "with_points": with_points}


def run(args) -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")
    kind = database_kind(args.database_url)
    app = bench_app(args.database_url)
    print("preparing (users, members, bills) ...", flush=True)
    prepared = prepare(app, args.seed, args.bills)
    bare_port, crm_port = free_port(), free_port()
    bare = start("bench.bare:app", bare_port, args.workers, {"BENCH_DATABASE_URL": args.database_url})
    crm = start("wsgi:app", crm_port, args.workers, {
        "CRM_CONFIG": "production", "DATABASE_URL": args.database_url, "SECRET_KEY": secrets.token_urlsafe(48),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{crm_port}", "SESSION_COOKIE_SECURE": "0",
        "LOGIN_RATE_LIMIT": UNLIMITED, "TRACKING_RATE_LIMIT": UNLIMITED, "SCHEDULER_IN_WEB": "0"})
    try:
        wait_ready(bare_port, "/", bare)
        wait_ready(crm_port, "/healthz", crm)
        results = measure(args, prepared, bare_port, crm_port)
    finally:
        for process in (bare, crm):
            process.terminate()
            process.wait(timeout=30)
        discard_unpaid(app, prepared["plain"] + prepared["with_points"])
    report(results, kind, args)


def discard_unpaid(app, bill_ids: list[int]) -> None:
    """The prepared bills the checkout scenarios did not pay, discarded as the desk would: otherwise every run left
    a thousand or more open, and the sales list (which shows the newest 50 open bills) measured a shop that never
    closes its bills."""
    with app.app_context():
        for start in range(0, len(bill_ids), 500):
            unpaid = db.session.scalars(select(Sale).where(Sale.id.in_(bill_ids[start:start + 500]),
                                                           Sale.status == SaleStatus.OPEN).with_for_update())
            for sale in unpaid:
                checkout.discard(db.session, sale)
        db.session.commit()
        db.session.remove()


def measure(args, prepared: dict, bare_port: int, crm_port: int) -> list[tuple[Result, str]]:
    cookies = {Role.MANAGER: login(crm_port, BENCH_MANAGER), Role.TECHNICIAN: login(crm_port, BENCH_TECHNICIAN),
               "anonymous": ""}
    load = {"seconds": args.seconds, "connections": args.connections}
    results = [(wrk("bare Flask: one indexed lookup", f"http://127.0.0.1:{bare_port}", ["/"], **load), "wrk")]
    for scenario in prepared["plan"]:
        result = wrk(scenario.name, f"http://127.0.0.1:{crm_port}", scenario.urls, cookie=cookies[scenario.role],
                     **load)
        results.append((result, "wrk"))
        print(f"  {result.name}: {result.rps:.0f} req/s", flush=True)
    results.append((python_client("bare Flask: one indexed lookup", "127.0.0.1", bare_port,
                                  lambda c: (lambda s, _b, t: (s == 200, t))(*get(c, "/")), **load), "python"))
    manager = cookies[Role.MANAGER]
    for name, bills, points in (("checkout: pay (POST)", prepared["plain"], False),
                                ("checkout with points: pay (POST)", prepared["with_points"], True)):
        if bills:
            count = len(bills)
            result = python_client(name, "127.0.0.1", crm_port, checkout_step(bills, manager, points),
                                   limit=count, **load)
            results.append((result, "python"))
            print(f"  {result.name}: {result.rps:.0f} rounds/s", flush=True)
    return results


def report(results: list[tuple[Result, str]], kind: str, args) -> None:
    bare = {client: r for r, client in results if r.name.startswith("bare")}
    print(f"\n{kind}, gunicorn -w {args.workers}, {args.connections} connections, {args.seconds} s per page")
    print(f"{'scenario':<40} {'client':<7} {'req/s':>8} {'ratio':>7} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} "
          f"{'errors':>7}")
    rows = []
    for result, client in results:
        ratio = result.rps / bare[client].rps if bare[client].rps else 0
        print(f"{result.name:<40} {client:<7} {result.rps:>8.0f} {ratio:>6.1%} {result.p50_ms:>8.1f} "
              f"{result.p90_ms:>8.1f} {result.p99_ms:>8.1f} {result.bad:>7}")
        rows.append({"name": result.name, "client": client, "requests": result.requests,
                     "seconds": round(result.seconds, 2), "rps": round(result.rps, 1), "ratio": round(ratio, 4),
                     "p50_ms": round(result.p50_ms, 2), "p90_ms": round(result.p90_ms, 2),
                     "p99_ms": round(result.p99_ms, 2), "errors": result.bad})
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"throughput-{kind}.json"
    path.write_text(json.dumps({"date": datetime.now(UTC).isoformat(timespec="seconds"), "cpus": os.cpu_count(),
                                "workers": args.workers, "connections": args.connections,
                                "seconds": args.seconds, "results": rows}, indent=2, ensure_ascii=False) + "\n")
    print(f"\nwritten {path.relative_to(ROOT)}")
    if any(row["errors"] for row in rows):
        sys.exit("some requests failed (see the errors column)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.throughput", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--seconds", type=int, default=10, help="load time per page")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers for each app")
    parser.add_argument("--bills", type=int, default=1500, help="bills prepared for each checkout scenario")
    parser.add_argument("--seed", type=int, default=11)
    run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
