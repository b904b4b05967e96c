"""The technician in a real browser: the queue, taking an order, and moving it to "ready" with the
work logged on the way."""

import re

from playwright.sync_api import Page, expect

from crm.extensions import db
from tests import factories


def _entry(old: str | None, new: str, who: str) -> re.Pattern:
    """One history line: "Old → New · 2026-01-31 12:00 · Who", whitespace as the page has it."""
    move = (re.escape(old) + r"\s*→\s*" if old else "") + re.escape(new)
    return re.compile(r"^\s*" + move + r"\s*·\s*\d{4}-\d\d-\d\d \d\d:\d\d\s*·\s*" + re.escape(who) + r"\s*$")


def _change_status(page: Page, label: str) -> None:
    page.get_by_label("New status").select_option(label=label)
    page.get_by_role("button", name="Change status").click()
    expect(page.get_by_role("alert")).to_contain_text(f"is now: {label}.")


def test_technician_takes_an_order_and_repairs_it(app, page: Page, staff_user, login, artifacts):
    with app.app_context():
        customer = factories.customer(name="Taras Melnyk", phone="+380661234500")
        number = factories.order(customer, brand="Xiaomi", model="Redmi Note 10", problem="Does not charge").number
        db.session.commit()
        db.session.remove()
    staff_user("technician", "tech-ivan", "Ivan Tech")
    login("tech-ivan")

    # Lands on the queue, where the unassigned order waits.
    expect(page.get_by_role("heading", name="My queue")).to_be_visible()
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name=number))
    expect(row).to_contain_text("Unassigned")
    expect(row).to_contain_text("Xiaomi Redmi Note 10")
    row.get_by_role("link", name=number).click()

    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(f"Order {number}")
    page.get_by_role("button", name="Take this order").click()
    expect(page.get_by_role("alert")).to_contain_text(f"Order {number} is now yours.")
    expect(page.get_by_role("button", name="Take this order")).to_have_count(0)
    expect(page.get_by_text("Ivan Tech", exact=True)).to_be_visible()

    _change_status(page, "Diagnosing")
    _change_status(page, "In repair")

    # Log the work with its price.
    page.get_by_label("Kind").select_option(label="Work")
    page.get_by_label("Description").fill("Charging port replacement")
    page.get_by_label("Quantity").fill("1")
    page.get_by_label("Unit price").fill("650")
    page.get_by_role("button", name="Add line").click()
    expect(page.get_by_role("alert")).to_contain_text("Line added.")
    line = page.get_by_role("row").filter(has_text="Charging port replacement")
    expect(line).to_contain_text("UAH650.00")
    expect(page.locator("#order-total")).to_have_text("UAH650.00")

    _change_status(page, "Ready for pickup")

    # The badge and the history tell the story.
    expect(heading.locator(".badge")).to_have_text("Ready for pickup")
    history = page.get_by_role("list").filter(has_text="Ivan Tech").last
    expect(history.get_by_role("listitem")).to_have_text([
        _entry(None, "Received", "system"),
        _entry("Received", "Diagnosing", "Ivan Tech"),
        _entry("Diagnosing", "In repair", "Ivan Tech"),
        _entry("In repair", "Ready for pickup", "Ivan Tech"),
    ])
    page.screenshot(path=str(artifacts / "technician_order_ready.png"), full_page=True)

    # Ready for pickup is no longer bench work: it leaves the queue.
    page.get_by_role("navigation").get_by_role("link", name="My queue").click()
    expect(page.get_by_role("heading", name="My queue")).to_be_visible()
    expect(page.get_by_role("link", name=number)).to_have_count(0)
    expect(page.get_by_text("No orders.")).to_be_visible()
