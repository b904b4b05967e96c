"""The manager's reports in a real browser: the dashboard is where a manager lands, its charts draw (with no
Content-Security-Policy violation: the page fixture fails the test on any), a preset changes the URL and the
figures, the print view hides the navigation and shows the charts' tables, and a Loyalty report table downloads
as CSV."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect

from crm.extensions import db
from crm.loyalty import accounts
from crm.shop_time import local_now, utc_from_local
from tests import factories
from tests.reports import shop


def _seed(app):
    """A member's sale this month and a bigger one last month, and a walk-in's sale this month."""
    with app.app_context():
        now = datetime.now(UTC) - timedelta(minutes=1)
        last_month = utc_from_local(local_now().date().replace(day=1)) - timedelta(days=5)
        member = factories.customer(name="Dashboard Member")
        accounts.enrol(db.session, member, now=last_month - timedelta(days=1))
        shop.sale(db.session, member, 12_345, now)
        shop.sale(db.session, member, 54_321, last_month)
        shop.sale(db.session, None, 1_000, now)
        db.session.commit()
        db.session.remove()


# The charts are drawn once the deferred scripts ran and a frame was painted (on a busy machine, after the headings
# are already there): waited for, then checked one by one below.
CHARTS_READY_JS = """() => typeof Chart !== 'undefined'
  && [...document.querySelectorAll('canvas[data-chart]')].every(canvas => {
    const blank = document.createElement('canvas');
    blank.width = canvas.width; blank.height = canvas.height;
    return Chart.getChart(canvas) && canvas.toDataURL() !== blank.toDataURL();
  })"""
CHARTS_DRAWN_JS = """() => [...document.querySelectorAll('canvas[data-chart]')].map(canvas => {
  const blank = document.createElement('canvas');
  blank.width = canvas.width; blank.height = canvas.height;
  return {key: canvas.dataset.chart, width: canvas.width, height: canvas.height,
          chart: !!Chart.getChart(canvas), drawn: canvas.toDataURL() !== blank.toDataURL()};
})"""


def test_the_manager_lands_on_the_dashboard_switches_to_last_month_and_downloads_a_csv(
        page: Page, app, staff_user, login, artifacts):
    _seed(app)
    staff_user("manager", "dash-maria", "Maria Manager")
    login("dash-maria")
    expect(page).to_have_url(re.compile(r"/reports$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Reports")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    page.wait_for_function(CHARTS_READY_JS)
    charts = page.evaluate(CHARTS_DRAWN_JS)
    assert [c["key"] for c in charts] == ["revenue", "points", "tiers", "new_members"]
    assert all(c["chart"] and c["width"] > 0 and c["height"] > 0 and c["drawn"] for c in charts), charts
    expect(page.get_by_role("img", name="Revenue (net of refunds), members and non-members")).to_be_visible()
    expect(page.locator("#table-revenue")).to_contain_text("UAH123.45")
    page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)

    revenue = page.locator('[data-key="revenue"] .kpi-value')
    this_month = revenue.inner_text()
    page.get_by_label("Period").select_option(label="Last month")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"/reports\?period=last_month$"))  # a preset needs no days in the URL
    expect(page.get_by_label("Period")).to_have_value("last_month")
    expect(revenue).not_to_have_text(this_month)
    expect(page.locator("#table-revenue")).to_contain_text("UAH543.21")

    # On paper: no navigation, no controls, the charts' tables in full.
    page.emulate_media(media="print")
    expect(page.get_by_role("navigation")).to_be_hidden()
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    expect(page.locator("#table-points")).to_be_visible()
    page.screenshot(path=str(artifacts / "dashboard-print.png"), full_page=True)
    page.pdf(path=str(artifacts / "dashboard-a4.pdf"), format="A4")
    page.emulate_media(media="screen")

    page.get_by_role("link", name="Loyalty report").click()
    expect(page.get_by_role("heading", name="Loyalty report")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/reports/loyalty\?period=last_month&start=\d{4}-\d{2}-01&end="))

    with page.expect_download() as download:
        page.locator("#table-members").get_by_role("link", name="Download CSV").click()
    with open(download.value.path(), encoding="utf-8") as saved:
        text = saved.read()
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][0] == "Figure" and rows[0][3] == "Change" and re.fullmatch(r"\d{4}-\d{2}-01\.\.\S+", rows[0][1])
    assert rows[1][0] == "Members at the end" and int(rows[1][1]) >= 1

    # Typing a day makes the range custom, and both days go into the URL.
    page.get_by_label("First day (custom)").fill("2026-03-01")
    page.get_by_label("Last day (custom)").fill("2026-03-31")
    expect(page.get_by_label("Period")).to_have_value("custom")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"/reports/loyalty\?period=custom&start=2026-03-01&end=2026-03-31$"))
