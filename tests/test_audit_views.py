"""GET /audit: the manager's audit log, filtered by who, what and when (the shop's days), paginated, as CSV; garbage
in a filter gives a message, never an error; the page's statements do not grow with its rows."""

from datetime import UTC, datetime, timedelta

import pytest

from crm import audit
from crm.auth.models import Role
from crm.shop_time import utc_from_local
from tests.factories.sales import new_item, staff_member
from tests.helpers import app_session

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


def seed(app, *, extra: int = 0) -> dict:
    """A refund by Iryna on 2 March, a price change by Taras on 5 March (shop days), ``extra`` more by Iryna."""
    with app_session(app) as session:
        iryna = staff_member(session, Role.FRONT_DESK)
        taras = staff_member(session, Role.MANAGER)
        audit.record(session, iryna, "refund", "refund", "RF-00007", {"amount_minor": 1500}, area="refunds",
                     now=utc_from_local(datetime(2026, 3, 2).date(), 23 * 60 + 30))
        audit.record_change(session, "item:1", "price_minor", 100, "=HYPERLINK(\"x\")", taras,
                            utc_from_local(datetime(2026, 3, 5).date(), 10 * 60), area="prices")
        for n in range(extra):
            audit.record(session, iryna, "adjust", "item", n, {"quantity": -1}, area="stock",
                         now=datetime(2026, 3, 6, tzinfo=UTC) + timedelta(minutes=n))
        return {"iryna": iryna.id, "taras": taras.id, "iryna_name": iryna.full_name, "taras_name": taras.full_name}


def table(html: str) -> str:
    start = html.index('id="audit-log"')
    return html[start:html.index("</table>", start)]


def test_the_page_is_for_the_manager_only_and_in_the_navigation(app, client, auth):
    auth.login("front_desk")
    assert client.get("/audit").status_code == 403
    assert client.get("/audit?format=csv").status_code == 403
    assert 'href="/audit"' not in client.get("/customers").get_data(as_text=True)
    auth.logout()
    auth.login("manager")
    assert 'href="/audit"' in client.get("/customers").get_data(as_text=True)


def test_filters_by_who_what_and_the_shops_days(app, client, auth):
    people = seed(app)
    auth.login("manager")
    everything = table(client.get("/audit").get_data(as_text=True))
    assert "RF-00007" in everything and "item:1" in everything
    by_iryna = table(client.get(f"/audit?actor={people['iryna']}").get_data(as_text=True))
    assert "RF-00007" in by_iryna and "item:1" not in by_iryna
    prices = table(client.get("/audit?area=prices").get_data(as_text=True))
    assert "item:1" in prices and "RF-00007" not in prices
    # 23:30 on 2 March in the shop is still 2 March, whatever the UTC date
    second = table(client.get("/audit?from=2026-03-02&to=2026-03-02").get_data(as_text=True))
    assert "RF-00007" in second and "item:1" not in second
    later = table(client.get("/audit?from=2026-03-03").get_data(as_text=True))
    assert "item:1" in later and "RF-00007" not in later
    assert "No entries match." in client.get(f"/audit?actor={people['taras']}&area=refunds").get_data(as_text=True)


@pytest.mark.parametrize(("query", "message"), [
    ("actor=abc", "No such staff member"), ("actor=999999", "No such staff member"), ("actor=%C2%B2", "No such"),
    ("area=everything", "No such area"), ("from=2026-13-45", "is not a date"), ("to=yesterday", "is not a date"),
    ("from=0001-01-01", "is not a date"), ("from=2026-03-05&to=2026-03-01", "the dates were swapped"),
])
def test_a_garbage_filter_gives_a_message_and_the_rest_of_the_page(app, client, auth, query, message):
    seed(app)
    auth.login("manager")
    response = client.get(f"/audit?{query}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html and "RF-00007" in table(html)  # the bad filter was dropped: every row shows
    csv = client.get(f"/audit?{query}&format=csv")
    assert csv.status_code == 200 and "RF-00007" in csv.get_data(as_text=True)


def test_the_csv_is_the_filtered_rows_with_a_bom_and_formula_safe(app, client, auth):
    people = seed(app)
    auth.login("manager")
    response = client.get(f"/audit?format=csv&actor={people['taras']}")
    body = response.get_data()
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    assert body.startswith("\ufeff".encode())
    text = body.decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].startswith("When,Who,Area,Action")
    assert len(lines) == 2 and people["taras_name"] in lines[1] and "RF-00007" not in text
    assert "'=HYPERLINK" in text  # a spreadsheet would run the cell as a formula without the apostrophe


def test_the_csv_link_carries_the_filters(app, client, auth):
    people = seed(app)
    auth.login("manager")
    html = client.get(f"/audit?actor={people['iryna']}&area=refunds&from=2026-03-01").get_data(as_text=True)
    link = html[html.index('id="audit-csv"'):].split('"')[3].replace("&amp;", "&")
    assert f"actor={people['iryna']}" in link and "area=refunds" in link and "from=2026-03-01" in link
    assert "format=csv" in link
    assert "RF-00007" in client.get(link).get_data(as_text=True)


def test_the_page_is_paginated_and_its_statements_do_not_grow_with_rows(app, client, auth, count_queries):
    auth.login("manager")
    seed(app, extra=2)

    def measure() -> int:
        with count_queries() as counter:
            assert client.get("/audit").status_code == 200
        return counter.count

    few = measure()
    seed(app, extra=app.config["PAGE_SIZE"] + 5)
    assert measure() == few
    first = client.get("/audit").get_data(as_text=True)
    assert "page=2" in first and "RF-00007" not in table(first)  # a full page of the newest stock rows
    assert "RF-00007" in table(client.get("/audit?page=2").get_data(as_text=True))


def test_a_price_changed_in_the_catalogue_page_shows_in_the_log_with_who(app, client, auth):
    manager_id = auth.login("manager")
    with app_session(app) as session:
        item = new_item(session, price_minor=10_000)
        item_id, sku, category_id = item.id, item.sku, item.category_id
    from tests.conftest import csrf_token

    token = csrf_token(client, f"/catalogue/{item_id}/edit")
    response = client.post(f"/catalogue/{item_id}/edit", data={
        "csrf_token": token, "sku": sku, "name": "Case", "category_id": str(category_id), "price": "125.00",
        "cost": "0", "stock_tracked": "y", "reorder_level": "0", "active": "y"})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    html = table(client.get(f"/audit?area=prices&actor={manager_id}").get_data(as_text=True))
    assert f"item:{item_id}" in html and "10000" in html and "12500" in html
