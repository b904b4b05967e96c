"""The staff report in a real browser: the manager opens it from the Reports page, switches to last month and
downloads the technicians' table; its header and first row parse as CSV."""

import csv
import io
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.e2e.conftest import assert_every_field_labelled


def test_the_manager_opens_the_staff_report_and_downloads_a_csv(page: Page, staff_user, login):
    staff_user("manager", "boss-staff-report", "Olga Boss")
    staff_user("technician", "tech-staff-report", "Taras Tech")
    login("boss-staff-report")
    expect(page.get_by_role("heading", name="Reports")).to_be_visible()
    page.get_by_role("link", name="Staff performance").click()
    expect(page.get_by_role("heading", name="Staff performance")).to_be_visible()
    assert_every_field_labelled(page)
    page.get_by_label("Period").select_option("last_month")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"period=last_month"))
    expect(page.locator("#table-technicians")).to_contain_text("Taras Tech")
    with page.expect_download() as download:
        page.locator("#table-technicians").get_by_role("link", name="Download CSV").click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:2] == ["Technician", "Repairs finished"]
    assert rows[1][:2] == ["Taras Tech", "0"]
