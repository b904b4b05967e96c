"""The manager in a real browser: staff accounts, and every navigation link for every role."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import PASSWORD, assert_every_field_labelled


def test_manager_creates_and_deactivates_a_technician(page: Page, new_context, staff_user, login):
    staff_user("manager", "boss-olga", "Olga Boss")
    login("boss-olga")
    expect(page.get_by_role("heading", name="Reports")).to_be_visible()  # a manager lands on the dashboard

    # A new technician account.
    page.get_by_role("navigation").get_by_role("link", name="Staff").click()
    expect(page.get_by_role("heading", name="Staff")).to_be_visible()
    page.get_by_role("link", name="New staff account").click()
    assert_every_field_labelled(page)
    page.get_by_label("Username").fill("tech-nina")
    page.get_by_label("Full name").fill("Nina Newtech")
    page.get_by_label("Role").select_option(label="Technician")
    page.get_by_label("Password").fill("a-long-password-1")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("alert")).to_contain_text("Account tech-nina created.")
    row = page.get_by_role("row").filter(has_text="tech-nina")
    expect(row).to_contain_text("Nina Newtech")
    expect(row).to_contain_text("Technician")
    expect(row).to_contain_text("Active")

    # The technician logs in at the bench, in a browser of their own.
    bench = new_context().new_page()
    bench.set_default_timeout(5_000)
    bench.goto("/login")
    bench.get_by_label("Username").fill("tech-nina")
    bench.get_by_label("Password").fill("a-long-password-1")
    bench.get_by_role("button", name="Log in").click()
    expect(bench.get_by_role("heading", name="My queue")).to_be_visible()

    # The manager deactivates the account.
    row.get_by_role("link", name="Edit").click()
    expect(page.get_by_role("heading", name="Edit tech-nina")).to_be_visible()
    assert_every_field_labelled(page)
    active = page.get_by_label("Account active (can log in)")
    expect(active).to_be_checked()
    active.uncheck()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("Account tech-nina saved.")
    expect(page.get_by_role("row").filter(has_text="tech-nina")).to_contain_text("Deactivated")

    # The open session ends at the next click...
    bench.get_by_role("navigation").get_by_role("link", name="Orders").click()
    expect(bench).to_have_url(re.compile(r"/login\b"))
    expect(bench.get_by_role("heading", name="Log in")).to_be_visible()

    # ...and a new login is refused with the words of a wrong password (a message of its own would tell a guesser
    # that the password is right), plus a hint that a manager can help.
    bench.get_by_label("Username").fill("tech-nina")
    bench.get_by_label("Password").fill("a-long-password-1")
    bench.get_by_role("button", name="Log in").click()
    expect(bench.get_by_text("Wrong username or password.")).to_be_visible()
    expect(bench.get_by_text("a deactivated account cannot log in: ask a manager")).to_be_visible()
    expect(bench.get_by_role("heading", name="Log in")).to_be_visible()
    expect(bench.get_by_role("link", name="My queue")).to_have_count(0)


@pytest.mark.parametrize("role, expected", [
    ("technician", ["My queue", "My results", "Orders", "Customers", "Catalogue"]),
    ("front_desk", ["Orders", "Customers", "Catalogue", "New customer", "Sales", "End of day"]),
    ("manager", ["My queue", "Orders", "Customers", "Catalogue", "New customer", "Sales", "End of day",
                 "Reports", "Low stock", "Loyalty settings", "Messages", "Feedback", "Staff", "API tokens",
                 "Webhooks", "Audit log"]),
])
def test_every_navigation_link_opens_for_its_role(page: Page, staff_user, login, role, expected):
    staff_user(role, f"nav-{role}")
    login(f"nav-{role}", PASSWORD)
    nav_links = page.get_by_role("navigation").locator("ul.me-auto").get_by_role("link")
    expect(nav_links).to_have_text(expected)
    for name in expected:
        with page.expect_response(lambda r: r.request.resource_type == "document") as response:
            page.get_by_role("navigation").get_by_role("link", name=name, exact=True).click()
        assert response.value.status == 200, f"{role}: {name} answered {response.value.status}"
        expect(page.get_by_role("heading", level=1)).to_have_text(name)
        assert_every_field_labelled(page)
