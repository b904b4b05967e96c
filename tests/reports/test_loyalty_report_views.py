"""GET /reports/loyalty: the manager's page, its CSV tables, bad ranges shown on the page, and a statement count
that does not grow with the shop or the range."""

import csv
import io

import pytest

from tests import factories
from tests.reports import shop

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")
MARCH = "/reports/loyalty?period=custom&start=2026-03-01&end=2026-03-31"


@pytest.fixture
def built(app):
    with app.app_context():
        from crm.extensions import db
        shop.build(db.session)
        db.session.commit()


def test_the_dashboard_links_to_the_report_with_its_range(auth, client):
    auth.login("manager")
    dashboard = client.get("/reports?period=last_month").get_data(as_text=True)
    assert 'href="/reports/loyalty?period=last_month&amp;start=' in dashboard
    page = client.get("/reports/loyalty").get_data(as_text=True)
    assert 'href="/reports"' in page and 'for="r-period"' in page and 'for="r-start"' in page


def test_the_page_shows_each_figure_with_the_previous_period(built, auth, client):
    auth.login("manager")
    page = client.get(MARCH).get_data(as_text=True)
    assert 'data-key="members_at_end"><td>Members at the end</td><td class="text-end">3</td>' \
           '<td class="text-end">2</td><td class="text-end">1</td>' in page
    assert 'data-key="active_share"><td>Share of members active</td><td class="text-end">66.7 %</td>' in page
    assert "2026-01-29" in page and "Download CSV" in page


def test_a_table_downloads_as_csv(built, auth, client):
    auth.login("manager")
    response = client.get(MARCH + "&format=csv&table=points")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == ["Figure", "2026-03-01..2026-03-31", "2026-01-29..2026-02-28", "Change"]
    assert ["Points issued", "570", "80", "490"] in rows
    assert ["Redemption rate", "7.0 %", "0.0 %", "7.0 %"] in rows


def test_a_reversed_range_is_explained_next_to_the_form(auth, client):
    auth.login("manager")
    response = client.get("/reports/loyalty?period=custom&start=2026-05-01&end=2026-04-01")
    assert response.status_code == 200
    assert "The last day is before the first day." in response.get_data(as_text=True)


def test_no_feedback_yet_is_said(auth, client):
    auth.login("manager")
    assert "No feedback yet in this period." in client.get(MARCH).get_data(as_text=True)


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
        shop.build(db.session)
        for _ in range(5):
            shop.build(db.session)
            shop.sale(db.session, factories.customer(), 1_000, shop.at("2026-03-09T10:00"))
        db.session.commit()
    assert _statements(count_queries, client, MARCH) == empty
    assert _statements(count_queries, client, "/reports/loyalty?period=custom&start=2017-01-01&end=2026-12-31") == empty
    assert _statements(count_queries, client, "/reports/loyalty?period=today") == empty


def test_the_retention_table_downloads_as_csv(built, auth, client):
    auth.login("manager")
    response = client.get("/reports/loyalty?period=custom&start=2026-02-01&end=2026-03-31&format=csv&table=cohorts")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["First paid month", "Customers", "Month 1"] and len(rows[0]) == 14
    # February: nobody's first sale (Dana never bought); March: Anna, Boris (1 March in Kyiv) and Chris
    assert [row[:2] for row in rows[1:]] == [["2026-02", "0"], ["2026-03", "3"]]
    assert rows[1][2] == "—"  # nothing to divide by
