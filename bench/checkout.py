"""The checkout in the benchmark: the cart page (GET) and the payment (POST), each timed on its own.

Each round opens a fresh bill for a random customer with two random accessories through the service
(not timed), then the desk's browser loads the cart page and posts the payment form it shows."""

import random
import re
import statistics
import sys

from sqlalchemy import func, select

from crm.catalogue.models import CatalogueItem
from crm.extensions import db
from crm.loyalty.models import Account
from crm.sales import checkout
from crm.sales.models import Sale


def _open_bill(rng: random.Random, item_count: int, customer_count: int, members: list[int] | None = None) -> int:
    from crm.customers.models import Customer

    customer = db.session.get(Customer, rng.choice(members) if members else rng.randint(1, customer_count))
    sale = checkout.open_sale(db.session, actor=None, customer=customer)
    for item_id in rng.sample(range(1, item_count + 1), 2):
        checkout.add_item(db.session, sale, db.session.get(CatalogueItem, item_id), 1)
    db.session.commit()
    sale_id = sale.id
    db.session.remove()
    return sale_id


def _field(html: str, name: str) -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', html)
    if match is None:
        sys.exit(f"checkout page: no {name} field")
    return match.group(1)


def measure_checkout(app, client, meter, rounds: int, rng: random.Random, summarize) -> list[dict]:
    with app.app_context():
        item_count = db.session.scalar(select(func.count(CatalogueItem.id)))
        customer_count = db.session.scalar(select(func.max(Sale.customer_id))) or 1
        db.session.remove()
    if not item_count:
        sys.exit("No catalogue items: regenerate the database with python -m bench.generate.")
    with app.app_context():
        members = list(db.session.scalars(select(Account.customer_id).where(Account.balance > 100).limit(5000)))
        db.session.remove()
    results = _rounds(app, client, meter, rounds, rng, summarize, item_count, customer_count, None,
                      "checkout: cart page (GET)", "checkout: take payment (POST)")
    if members:
        results += _rounds(app, client, meter, rounds, rng, summarize, item_count, customer_count, members,
                           "checkout with points: cart page (GET)", "checkout with points: take payment (POST)")
    return results


def _rounds(app, client, meter, rounds, rng, summarize, item_count, customer_count, members, page_name, post_name):
    """Open a bill (untimed), load the cart page and post the payment it shows. With ``members`` the
    customer is a member with points and the cart page is asked for the most points allowed."""
    page_times, page_sql, post_times, post_sql = [], [], [], []
    spent = 0
    for i in range(rounds + 3):  # three warm-up rounds
        with app.app_context():
            sale_id = _open_bill(rng, item_count, customer_count, members)
        page = client.get(f"/sales/{sale_id}" + ("?use_max=y" if members else ""))
        if page.status_code != 200:
            sys.exit(f"GET /sales/{sale_id} answered HTTP {page.status_code}")
        timing = (meter.elapsed_ms, meter.statements)
        html = page.text
        total = _field(html, "expected_total")
        amount = f"{int(total) // 100}.{int(total) % 100:02d}"
        form = {"csrf_token": _field(html, "csrf_token"), "key": _field(html, "key"), "expected_total": total,
                "loyalty_points": _field(html, "loyalty_points"), "loyalty_coupon": "", "pay_1": amount}
        spent += int(form["loyalty_points"] or 0) > 0
        response = client.post(f"/sales/{sale_id}/pay", data=form)
        if response.status_code != 302 or "/paid" not in response.headers.get("Location", ""):
            sys.exit(f"POST /sales/{sale_id}/pay answered HTTP {response.status_code}: {response.text[:500]}")
        if i >= 3:
            page_times.append(timing[0])
            page_sql.append(timing[1])
            post_times.append(meter.elapsed_ms)
            post_sql.append(meter.statements)
    if members and spent < rounds:
        sys.exit(f"checkout with points: only {spent} of {rounds + 3} payments spent points")
    return [summarize(page_name, page_times, page_sql), summarize(post_name, post_times, post_sql)]


def summary(nearest_rank):
    def summarize(name: str, times: list[float], counts: list[int]) -> dict:
        return {"name": name, "p50_ms": round(statistics.median(times), 2),
                "p95_ms": round(nearest_rank(times, 0.95), 2), "max_ms": round(max(times), 2),
                "sql_min": min(counts), "sql_max": max(counts), "urls": ["/sales/<id>", "/sales/<id>/pay"]}
    return summarize
