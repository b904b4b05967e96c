"""The front desk in a real browser: new customer, device intake, printed receipts, live search,
and a wrong IMEI that keeps what the clerk typed."""

import re
from datetime import date, timedelta

from playwright.sync_api import Page, expect

from crm.extensions import db
from crm.orders.models import RepairOrder
from tests import factories
from tests.e2e.conftest import DESKTOP, PHONE, assert_every_field_labelled

VALID_IMEI = "490154203237518"


def _nav(page: Page):
    return page.get_by_role("navigation")


def _pdf_pages(path) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", path.read_bytes()))


def _pdf_page_size(path) -> tuple[int, int]:
    box = re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", path.read_bytes())
    return round(float(box.group(1))), round(float(box.group(2)))


def _fill_intake(page: Page, imei: str, due: date) -> None:
    page.get_by_label("Device type").select_option(label="Phone")
    page.get_by_label("Brand").fill("Samsung")
    page.get_by_label("Model").fill("Galaxy S21")
    page.get_by_label("IMEI").fill(imei)
    page.get_by_label("Problem as the customer describes it").fill("Screen cracked after a fall; touch works.")
    page.get_by_label("Estimate").fill("1250.50")
    page.get_by_label("Due date").fill(due.isoformat())


def test_front_desk_takes_a_device_in_and_prints_the_receipt(page: Page, staff_user, login, artifacts, live_server):
    staff_user("front_desk", "desk-anna", "Anna Desk")
    login("desk-anna")
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()
    _add_customer(page)
    number = _take_device_in(page, artifacts)
    tracking_path = _print_a4_receipt(page, artifacts, number)
    _customer_opens_the_printed_link(page, live_server, artifacts, tracking_path, number)
    _print_a4_pdf(page, artifacts)
    _print_80mm_receipt(page, artifacts, number)

    # Back to the order, then to the customer's profile, which now lists the repair.
    page.get_by_role("link", name="Back to the order").click()
    page.get_by_role("link", name="Olena Shevchenko").click()
    expect(page.get_by_role("link", name=number)).to_be_visible()


def _add_customer(page: Page) -> None:
    """A new customer, from the navigation; lands on the profile."""
    _nav(page).get_by_role("link", name="New customer").click()
    expect(page.get_by_role("heading", name="New customer")).to_be_visible()
    assert_every_field_labelled(page)
    page.get_by_label("Phone").fill("067 123 45 67")
    page.get_by_label("Name", exact=True).fill("Olena Shevchenko")
    page.get_by_label("E-mail").fill("olena@example.com")
    page.get_by_label("Agrees to service messages").check()
    page.get_by_label("Agrees to marketing messages").check()
    page.get_by_role("button", name="Save customer").click()

    expect(page.get_by_role("heading", name="Olena Shevchenko")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Customer Olena Shevchenko added.")
    expect(page.get_by_text("olena@example.com")).to_be_visible()
    expect(page.get_by_text("No repairs yet.")).to_be_visible()


def _take_device_in(page: Page, artifacts) -> str:
    """Take a device in from the profile; the order page shows its number, which is returned."""
    page.get_by_role("link", name="Take a device in").click()
    expect(page.get_by_role("heading", name="Take a device in")).to_be_visible()
    assert_every_field_labelled(page)
    due = date.today() + timedelta(days=3)
    _fill_intake(page, VALID_IMEI, due)
    page.get_by_role("button", name="Save order").click()

    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(re.compile(r"Order R-\d+\s+Received"))
    number = re.search(r"R-\d+", heading.inner_text()).group(0)
    expect(page.get_by_role("alert")).to_contain_text(f"Order {number} created.")
    expect(page.get_by_text(VALID_IMEI)).to_be_visible()
    expect(page.get_by_text("UAH1,250.50")).to_be_visible()
    expect(page.get_by_text(due.isoformat())).to_be_visible()
    assert_every_field_labelled(page)
    page.screenshot(path=str(artifacts / "front_desk_order_desktop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(artifacts / "front_desk_order_phone.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    return number


def _print_a4_receipt(page: Page, artifacts, number: str) -> str:
    """The A4 intake receipt: the number and a QR code that really rendered. Returns the printed link's path."""
    page.get_by_role("link", name="Intake receipt (A4)").click()
    expect(page.get_by_role("heading", name=f"Intake receipt {number}")).to_be_visible()
    qr = page.get_by_role("img", name="QR code of your tracking link")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    printed_link = page.get_by_text(re.compile(r"https://crm\.example\.test/t/\S+"))
    expect(printed_link).to_be_visible()
    tracking_path = re.search(r"/t/\S+", printed_link.inner_text()).group(0)
    page.screenshot(path=str(artifacts / "receipt_a4_screen.png"), full_page=True)
    return tracking_path


def _customer_opens_the_printed_link(page: Page, live_server, artifacts, tracking_path: str, number: str) -> None:
    """The customer opens the printed link on their phone: no login, the repair and its status."""
    customer_view = page.context.browser.new_context(base_url=live_server, viewport=PHONE)
    phone = customer_view.new_page()
    phone.set_default_timeout(5_000)
    phone.goto(tracking_path)
    expect(phone.get_by_role("heading", name=f"Repair {number}")).to_be_visible()
    expect(phone.get_by_role("heading", name="Status: Received")).to_be_visible()
    expect(phone.get_by_text("We have your device.")).to_be_visible()
    expect(phone.get_by_role("button", name="Log out")).to_have_count(0)
    phone.screenshot(path=str(artifacts / "tracking_page_phone.png"), full_page=True)
    customer_view.close()


def _print_a4_pdf(page: Page, artifacts) -> None:
    """The A4 receipt as printed: no toolbar, one A4 page."""
    page.emulate_media(media="print")
    expect(page.get_by_role("button", name="Print")).to_be_hidden()
    page.screenshot(path=str(artifacts / "receipt_a4_print.png"), full_page=True)
    a4 = artifacts / "receipt_a4.pdf"
    page.pdf(path=str(a4), prefer_css_page_size=True)
    assert _pdf_pages(a4) == 1, "the A4 intake receipt should fit on one page"
    assert _pdf_page_size(a4) == (595, 842), "the receipt's @page rule should ask for A4 paper"
    page.emulate_media(media="screen")


def _print_80mm_receipt(page: Page, artifacts, number: str) -> None:
    """The 80 mm receipt for the till printer, from the receipt's own toolbar."""
    page.get_by_role("link", name="80 mm").click()
    expect(page.get_by_role("heading", name=f"Intake receipt {number}")).to_be_visible()
    expect(page.get_by_role("img", name="QR code of your tracking link")).to_be_visible()
    page.screenshot(path=str(artifacts / "receipt_80mm_screen.png"), full_page=True)
    page.emulate_media(media="print")
    page.screenshot(path=str(artifacts / "receipt_80mm_print.png"), full_page=True)
    # A roll preview: 80 mm wide, long enough for the whole receipt on one piece of paper.
    roll = artifacts / "receipt_80mm.pdf"
    page.pdf(path=str(roll), width="80mm", height="250mm")
    assert _pdf_pages(roll) == 1, "the 80 mm receipt should fit on 25 cm of roll"
    page.emulate_media(media="screen")


def test_live_search_finds_a_customer_by_part_of_the_phone(app, page: Page, staff_user, login):
    with app.app_context():
        factories.customer(name="Ivan Petrenko", phone="+380671234567")
        factories.customer(name="Maria Koval", phone="+380509998877")
        db.session.commit()
        db.session.remove()
    staff_user("front_desk", "desk-bob")
    login("desk-bob")
    _nav(page).get_by_role("link", name="Customers").click()
    results = page.locator("#results")
    expect(results.get_by_role("link", name="Maria Koval")).to_be_visible()

    page.evaluate("window.notReloaded = true")  # gone if the page were submitted and reloaded
    page.get_by_label("Find a customer by phone, name or e-mail").press_sequentially("12345", delay=30)

    expect(results.get_by_role("link", name="Ivan Petrenko")).to_be_visible()
    expect(results.get_by_role("link", name="Maria Koval")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"\?q=12345$"))
    assert page.evaluate("window.notReloaded") is True, "the search should not reload the page"


def test_wrong_imei_shows_the_error_by_the_field_and_keeps_what_was_typed(app, page: Page, staff_user, login):
    with app.app_context():
        customer_id = factories.customer(name="Petro Bondar", phone="+380631112233").id
        db.session.commit()
        db.session.remove()
    staff_user("front_desk", "desk-carol")
    login("desk-carol")
    page.get_by_role("link", name="Petro Bondar").click()
    page.get_by_role("link", name="Take a device in").click()
    due = date.today() + timedelta(days=5)
    imei = page.get_by_label("IMEI")

    # Not 15 digits: the form's own check.
    _fill_intake(page, "12345", due)
    page.get_by_role("button", name="Save order").click()
    expect(imei).to_have_accessible_description("An IMEI is exactly 15 digits.")

    # 15 digits with a wrong check digit: the service's check.
    imei.fill("490154203237517")
    page.get_by_role("button", name="Save order").click()
    expect(imei).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(imei).to_have_accessible_description(re.compile("This IMEI is not valid"))
    expect(page.locator("#imei-error")).to_be_visible()
    # The error sits right under the IMEI field, not at the top of the page.
    field_box, error_box = imei.bounding_box(), page.locator("#imei-error").bounding_box()
    assert 0 <= error_box["y"] - (field_box["y"] + field_box["height"]) < 30
    # Everything else the clerk typed is still there.
    expect(imei).to_have_value("490154203237517")
    expect(page.get_by_label("Device type")).to_have_value("phone")
    expect(page.get_by_label("Brand")).to_have_value("Samsung")
    expect(page.get_by_label("Model")).to_have_value("Galaxy S21")
    expect(page.get_by_label("Problem as the customer describes it")).to_have_value(
        "Screen cracked after a fall; touch works.")
    expect(page.get_by_label("Estimate")).to_have_value("1250.50")
    expect(page.get_by_label("Due date")).to_have_value(due.isoformat())
    with app.app_context():
        assert db.session.query(RepairOrder).filter_by(customer_id=customer_id).count() == 0
        db.session.remove()

    # Corrected, the order is saved.
    imei.fill(VALID_IMEI)
    page.get_by_role("button", name="Save order").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(re.compile(r"Order R-\d+"))
    expect(page.get_by_text(VALID_IMEI)).to_be_visible()
