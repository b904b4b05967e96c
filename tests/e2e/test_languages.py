"""The shop in its own languages, in a real browser: the front desk's day in Ukrainian (log in, find the
customer by phone, take a device in with an amount typed with a decimal comma, check out a repair with points
and read the receipt), and one page each in Russian and Romanian. Every label clicked is the translated one,
read from the catalogue, so the test follows the translators' wording."""

import re

import pytest
from flask_babel import force_locale, gettext
from playwright.sync_api import Page, expect

from crm.extensions import db
from crm.loyalty import accounts, ledger
from crm.loyalty.program import update_program
from crm.orders import service as order_service
from crm.orders.status import Status
from tests import factories
from tests.e2e.conftest import DESKTOP, PASSWORD, assert_every_field_labelled
from tests.e2e.test_checkout import _stock_the_shop


def words(app, language: str):
    def t(text: str) -> str:
        with app.test_request_context(), force_locale(language):
            return gettext(text)
    return t


@pytest.fixture
def ukrainian_page(browser, live_server):
    context = browser.new_context(base_url=live_server, viewport=DESKTOP, locale="uk-UA")
    page = context.new_page()
    page.set_default_timeout(5_000)
    yield page
    context.close()


def _member_with_a_ready_repair(app) -> str:
    with app.app_context():
        update_program(db.session, {"welcome_bonus": 0}, actor=None)
        customer = factories.customer(name="Оксана Мельник", phone="+380671112233")
        account = accounts.enrol(db.session, customer)
        ledger.credit(db.session, account, "adjust", 200, key="e2e-uk-seed", reason="Opening balance",
                      expiry_months=12)
        order = factories.order(customer, brand="Xiaomi", model="Redmi Note 12")
        order_service.add_line(db.session, order, kind="labour", description="Заміна дисплея", quantity=1,
                               unit_price_minor=150000, actor=None)
        order.status = Status.READY.value
        number = order.number
        db.session.commit()
        db.session.remove()
    return number


def test_the_front_desks_day_in_ukrainian(app, ukrainian_page: Page, staff_user, artifacts):
    page, t = ukrainian_page, words(app, "uk")
    _stock_the_shop(app)
    number = _member_with_a_ready_repair(app)
    staff_user("front_desk", "desk-uk", "Ірина Приймальник")

    page.goto("/login")  # the browser asks for Ukrainian: the login page speaks it
    expect(page.locator("html")).to_have_attribute("lang", "uk")
    page.get_by_label(t("Username")).fill("desk-uk")
    page.get_by_label(t("Password")).fill(PASSWORD)
    page.get_by_role("button", name=t("Log in")).click()
    expect(page.get_by_role("heading", name=t("Customers"))).to_be_visible()

    page.get_by_role("searchbox").fill("1112233")  # a fragment of the phone, as the desk types it
    page.get_by_role("link", name="Оксана Мельник").first.click()
    expect(page.get_by_role("heading", name="Оксана Мельник")).to_be_visible()

    page.get_by_role("link", name=t("Take a device in")).click()
    assert_every_field_labelled(page)
    page.get_by_label(t("Brand")).fill("Samsung")
    page.get_by_label(t("Model")).fill("Galaxy A54")
    page.get_by_label(t("Problem as the customer describes it")).fill("Не заряджається")
    page.get_by_label(t("Estimate")).fill("1 250,50")
    page.get_by_role("button", name=t("Save order")).click()
    expect(page.get_by_text("1\u00a0250,50\u00a0₴")).to_be_visible()

    page.goto(f"/orders?q={number}")
    page.get_by_role("link", name=number).click()
    page.get_by_role("button", name=t("Check out and hand back")).click()
    expect(page.locator("#loyalty-balance")).to_have_text("200")
    page.get_by_label(t("Points to use")).fill("100")
    page.get_by_role("button", name=t("Apply to the bill")).click()
    expect(page.locator("#amount-due")).to_have_text("1\u00a0400,00\u00a0₴")
    assert_every_field_labelled(page)
    page.get_by_label(t("Card")).fill("1400,00")
    page.get_by_role("button", name=t("Take payment")).click()
    page.get_by_role("link", name=t("Receipt (A4)")).click()
    expect(page.locator("#points-summary")).to_contain_text("100")
    expect(page.locator("body")).to_contain_text("1\u00a0400,00\u00a0₴")
    page.screenshot(path=str(artifacts / "receipt_uk.png"), full_page=True)


@pytest.mark.parametrize(("locale", "language"), [("ru-UA", "ru"), ("ro-MD", "ro")])
def test_the_login_page_and_the_customers_page_in_russian_and_romanian(app, browser, live_server, staff_user,
                                                                        locale, language):
    t = words(app, language)
    staff_user("front_desk", f"desk-{language}")
    context = browser.new_context(base_url=live_server, viewport=DESKTOP, locale=locale)
    page = context.new_page()
    page.set_default_timeout(5_000)
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", language)
    page.get_by_label(t("Username")).fill(f"desk-{language}")
    page.get_by_label(t("Password")).fill(PASSWORD)
    page.get_by_role("button", name=t("Log in")).click()
    expect(page.get_by_role("heading", name=t("Customers"))).to_be_visible()
    expect(page.get_by_role("navigation").get_by_role("link", name=t("New customer"))).to_be_visible()
    assert re.search(r"[а-яіїєșțăâî]", page.locator("body").inner_text(), re.IGNORECASE)
    context.close()
