"""The checkout in the benchmark: the cart page (GET) and the payment (POST), each timed on its own.

Each round opens a fresh bill for a random customer with two random accessories through the service
(not timed), then the desk's browser loads the cart page and posts the payment form it shows."""

import random
import re
import statistics
import sys

from sqlalchemy import func, select

from crm.extensions import db
from crm.orders import checkout
from crm.orders.catalogue_models import CatalogueItem
from crm.orders.sales_models import Sale


def _open_bill(rng: random.Random, item_count: int, customer_count: int) -> int:
    from crm.customers.models import Customer

    customer = db.session.get(Customer, rng.randint(1, customer_count))
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
    page_times, page_sql, post_times, post_sql = [], [], [], []
    for i in range(rounds + 3):  # three warm-up rounds
        with app.app_context():
            sale_id = _open_bill(rng, item_count, customer_count)
        page = client.get(f"/sales/{sale_id}")
        if page.status_code != 200:
            sys.exit(f"GET /sales/{sale_id} answered HTTP {page.status_code}")
        timing = (meter.elapsed_ms, meter.statements)
        html = page.text
        total = _field(html, "expected_total")
        amount = f"{int(total) // 100}.{int(total) % 100:02d}"
        form = {"csrf_token": _field(html, "csrf_token"), "key": _field(html, "key"), "expected_total": total,
                "pay_1": amount}
        response = client.post(f"/sales/{sale_id}/pay", data=form)
        if response.status_code != 302 or "/paid" not in response.headers.get("Location", ""):
            sys.exit(f"POST /sales/{sale_id}/pay answered HTTP {response.status_code}: {response.text[:500]}")
        if i >= 3:
            page_times.append(timing[0])
            page_sql.append(timing[1])
            post_times.append(meter.elapsed_ms)
            post_sql.append(meter.statements)
    return [summarize("checkout: cart page (GET)", page_times, page_sql),
            summarize("checkout: take payment (POST)", post_times, post_sql)]


def summary(nearest_rank):
    def summarize(name: str, times: list[float], counts: list[int]) -> dict:
        return {"name": name, "p50_ms": round(statistics.median(times), 2),
                "p95_ms": round(nearest_rank(times, 0.95), 2), "max_ms": round(max(times), 2),
                "sql_min": min(counts), "sql_max": max(counts), "urls": ["/sales/<id>", "/sales/<id>/pay"]}
    return summarize
