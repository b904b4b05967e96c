"""GET /reports: the manager's dashboard (their landing page), its CSV tables, bad ranges shown on the page, and a
statement count that does not grow with the shop or the range."""

import csv
import io
import json
import re

import pytest

from tests import factories
from tests.reports import shop

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")
MARCH = "/reports?period=custom&start=2026-03-01&end=2026-03-31"


@pytest.fixture
def built(app):
    with app.app_context():
        from crm.extensions import db
        shop.build(db.session)
        db.session.commit()


def _card(page: str, key: str) -> str:
    return re.search(rf'data-key="{key}">(.*?)</div></div></div>', page, re.S).group(1)


def test_the_manager_lands_on_the_dashboard_and_reports_in_the_navigation_opens_it(auth, client):
    auth.login("manager")
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/reports")
    page = client.get("/reports").get_data(as_text=True)
    assert 'class="nav-link" href="/reports"' in page and 'for="r-period"' in page and 'for="r-start"' in page
    assert 'href="/reports/loyalty?' in page and 'id="report-links"' in page
    assert 'data-print' in page and "/static/js/print.js" in page and "/static/vendor/chartjs/chart.umd.js" in page


@pytest.mark.parametrize("role", ["front_desk", "technician"])
def test_only_the_manager_sees_the_dashboard(auth, client, role):
    auth.login(role)
    assert client.get("/reports").status_code == 403
    assert client.get(MARCH + "&format=csv&table=headline").status_code == 403


def test_the_headline_figures_carry_the_previous_period_and_the_change(built, auth, client):
    auth.login("manager")
    page = client.get(MARCH).get_data(as_text=True)
    # March (Kyiv): 10000 + 30000 (Anna) + 20000 (Boris, 1 March local) + 8000 (Chris) + 2000 (walk-in) - 5000
    revenue = _card(page, "revenue")
    assert ">UAH650.00<" in revenue and "up by UAH650.00" in revenue and "previous period: UAH0.00" in revenue
    members = _card(page, "members")
    assert '<div class="fs-4 fw-semibold kpi-value">3</div>' in members and "previous period: 2" in members
    assert "▲" in members and "up by 1" in members
    assert "no change" in _card(page, "paid_repairs") and ">UAH130.00<" in _card(page, "average_check")
    assert "Redemption rate" in page and "7.0 %" in _card(page, "redemption_rate")
    assert "3.50" in _card(page, "average_rating")


def test_the_chart_data_and_the_tables_hold_the_same_figures(built, auth, client):
    auth.login("manager")
    page = client.get(MARCH).get_data(as_text=True)
    data = json.loads(re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', page, re.S)
                      .group(1))
    revenue = data["charts"]["revenue"]
    assert data["scale"] == 100 and revenue["money"] and len(revenue["labels"]) == 31  # per day
    assert sum(revenue["datasets"][0]["data"]) == 10_000 + 30_000 - 5_000 + 20_000  # Anna and Boris
    assert sum(revenue["datasets"][1]["data"]) == 8_000 + 2_000
    assert revenue["datasets"][0]["data"][0] == 20_000  # Boris, 1 March 00:30 Kyiv
    assert 'aria-label="Revenue (net of refunds), members and non-members"' in page
    for key in ("revenue", "points", "tiers", "new_members"):
        assert f'data-chart="{key}"' in page and f'id="table-{key}"' in page


def test_each_table_downloads_as_csv(built, auth, client):
    auth.login("manager")
    rows = _csv(client, MARCH + "&format=csv&table=headline")
    assert rows[0] == ["Figure", "2026-03-01..2026-03-31", "2026-01-29..2026-02-28", "Change"]
    assert ["Members", "3", "2", "1"] in rows
    rows = _csv(client, MARCH + "&format=csv&table=new_members")
    assert rows[0] == ["Day", "New members"] and len(rows) == 32 and rows[10] == ["2026-03-10", "1"]
    assert _csv(client, MARCH + "&format=csv&table=cost")[0][0] == "Figure"


def _csv(client, url):
    response = client.get(url)
    assert response.mimetype == "text/csv"
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))


@pytest.mark.parametrize(("query", "message"), [
    ("period=custom&start=2026-05-01&end=2026-04-01", "The last day is before the first day."),
    ("period=custom&start=2026-13-45&end=2026-01-01", "Enter the first and last day as dates (YYYY-MM-DD)."),
    ("period=custom&start=1926-01-01&end=2026-01-01", "A report covers at most ten years."),
    ("period=forever", "Choose a period from the list."),
])
def test_a_bad_range_is_explained_next_to_the_form(auth, client, query, message):
    auth.login("manager")
    response = client.get(f"/reports?{query}")
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)


def test_an_unknown_table_shows_the_page(auth, client):
    auth.login("manager")
    response = client.get("/reports?format=csv&table=nope")
    assert response.status_code == 200 and response.mimetype == "text/html"


def _statements(count_queries, client, url):
    with count_queries() as counter:
        assert client.get(url).status_code == 200
    return counter.count


def test_the_statements_are_the_same_for_a_small_and_a_larger_shop_and_any_range(app, auth, client, count_queries):
    auth.login("manager")
    client.get(MARCH)  # warm the session's caches (the user, the program row)
    empty = _statements(count_queries, client, MARCH)
    with app.app_context():
        from crm.extensions import db
        for _ in range(5):
            shop.build(db.session)
            shop.sale(db.session, factories.customer(), 1_000, shop.at("2026-03-09T10:00"))
        db.session.commit()
    assert _statements(count_queries, client, MARCH) == empty
    assert _statements(count_queries, client, "/reports?period=custom&start=2017-01-01&end=2026-12-31") == empty
    assert _statements(count_queries, client, "/reports?period=last_90") == empty
    assert _statements(count_queries, client, "/reports?period=today") == empty
    assert empty <= 30
