"""The end-of-day report: takings per payment method and per staff member, refunds, for one shop-local day.

Sales and refunds are made with the real checkout() and refund(), at chosen instants (``now=``), and the
report is read back for the days around them. The page is checked for roles, bad dates and a statement
count that does not grow with the number of sales."""

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from crm.auth.models import Role, StaffUser
from crm.catalogue.models import CatalogueItem, ItemCategory
from crm.catalogue.stock import record_movement
from crm.extensions import db
from crm.money import format_money
from crm.sales import checkout, pricing, refunds
from crm.sales.end_of_day import MethodRow, StaffRow, end_of_day
from crm.sales.models import Sale, SaleLine
from crm.shop_time import day_bounds_utc
from tests.helpers import app_session

KYIV = ZoneInfo("Europe/Kyiv")
METHODS = ["cash", "card", "bank_transfer"]
PRICE = 10000  # 100.00 a case
_n = itertools.count(1)


def at(year, month, day, hour=12, minute=0, second=0) -> datetime:
    """A shop-local wall-clock time in Kyiv, as the UTC instant the database stores."""
    return datetime(year, month, day, hour, minute, second, tzinfo=KYIV).astimezone(UTC)


def person(name: str, role: str = Role.FRONT_DESK) -> StaffUser:
    """A staff row that never logs in (no password hashing needed)."""
    user = StaffUser(username=f"report-{next(_n)}", full_name=name, role=role, password_hash="!unusable")
    db.session.add(user)
    db.session.flush()
    return user


def case_item(on_hand: int = 100) -> CatalogueItem:
    category_id = db.session.scalar(select(ItemCategory.id).where(ItemCategory.code == "accessory"))
    item = CatalogueItem(sku=f"EOD-CASE-{next(_n)}", name="Phone case", category_id=category_id, price_minor=PRICE,
                         cost_minor=0, stock_tracked=True)
    db.session.add(item)
    db.session.flush()
    record_movement(db.session, item, "received", on_hand, actor=None)
    return item


def sell(item, by: StaffUser, when: datetime, *tenders: tuple[str, int], quantity: int = 1) -> Sale:
    sale = checkout.open_sale(db.session, actor=by, now=when)
    checkout.add_item(db.session, sale, item, quantity)
    return checkout.checkout(db.session, sale.id, key=f"eod-{next(_n)}",
                             tenders=[pricing.Tender(method, amount) for method, amount in tenders],
                             expected_total_minor=PRICE * quantity, actor=by, payment_methods=METHODS,
                             number_prefix="S-", now=when)


def pay_back(sale: Sale, by: StaffUser, when: datetime, method: str, reason: str = "Faulty", quantity: int = 1):
    line_id = db.session.scalar(select(SaleLine.id).where(SaleLine.sale_id == sale.id))
    return refunds.refund(db.session, sale.id, [refunds.RefundRequest(line_id, quantity)], method=method,
                          reason=reason, key=f"eod-refund-{next(_n)}", actor=by, payment_methods=METHODS,
                          number_prefix="RF-", now=when)


def report(day: date):
    return end_of_day(db.session, day, KYIV, methods=METHODS)


@pytest.fixture
def busy_day(session):
    """12 May 2026 in Kyiv (UTC+3), with a sale on each side of both of its midnights."""
    olena, petro = person("Olena Koval"), person("Petro Shevchenko")
    item = case_item()
    sales = {
        "before": sell(item, olena, at(2026, 5, 11, 23, 59, 59), ("card", PRICE)),
        "first": sell(item, olena, at(2026, 5, 12, 0, 0, 0), ("cash", PRICE)),
        # 200.00: 150.00 by card, 100.00 cash handed over -> 50.00 of it pays, 50.00 comes back as change.
        "split": sell(item, olena, at(2026, 5, 12, 12, 0), ("card", 15000), ("cash", 10000), quantity=2),
        "transfer": sell(item, petro, at(2026, 5, 12, 14, 0), ("bank_transfer", PRICE)),
        "last": sell(item, petro, at(2026, 5, 12, 23, 59, 59), ("cash", 2 * PRICE)),
        "after": sell(item, olena, at(2026, 5, 13, 0, 0, 0), ("card", PRICE)),
    }
    same_day = pay_back(sales["split"], petro, at(2026, 5, 12, 16, 0), "cash", reason="Wrong colour")
    next_day = pay_back(sales["transfer"], olena, at(2026, 5, 13, 9, 0), "bank_transfer")
    return {"olena": olena, "petro": petro, "sales": sales, "same_day": same_day, "next_day": next_day}


def test_takings_per_payment_method_count_what_paid_the_bill_and_refunds_by_the_method_paid_back(busy_day):
    eod = report(date(2026, 5, 12))

    assert eod.methods == (
        MethodRow("cash", payments=3, taken_minor=PRICE + 5000 + PRICE, refunded_minor=PRICE),
        MethodRow("card", payments=1, taken_minor=15000, refunded_minor=0),
        MethodRow("bank_transfer", payments=1, taken_minor=PRICE, refunded_minor=0),
    )
    assert [row.net_minor for row in eod.methods] == [15000, 15000, 10000]


def test_totals_of_the_day_with_change_given_for_information(busy_day):
    totals = report(date(2026, 5, 12)).totals

    assert (totals.sales, totals.payments, totals.refunds) == (4, 5, 1)
    assert (totals.taken_minor, totals.refunded_minor, totals.net_minor) == (50000, 10000, 40000)
    assert totals.change_minor == 5000 + 10000  # the split sale's cash and the last sale's 200.00 note


def test_totals_agree_with_the_rows(busy_day):
    for day in (date(2026, 5, 11), date(2026, 5, 12), date(2026, 5, 13)):
        eod = report(day)
        assert sum(row.taken_minor for row in eod.methods) == eod.totals.taken_minor
        assert sum(row.taken_minor for row in eod.staff) == eod.totals.taken_minor
        assert sum(row.refunded_minor for row in eod.methods) == eod.totals.refunded_minor
        assert sum(row.refunded_minor for row in eod.staff) == eod.totals.refunded_minor
        assert sum(row.sales for row in eod.staff) == eod.totals.sales
        assert sum(r.amount_minor for r in eod.refunds) == eod.totals.refunded_minor


def test_each_staff_member_answers_for_the_sales_they_took_and_the_refunds_they_paid(busy_day):
    olena, petro = busy_day["olena"], busy_day["petro"]

    assert report(date(2026, 5, 12)).staff == (
        StaffRow(olena.id, "Olena Koval", sales=2, taken_minor=PRICE + 20000, refunded_minor=0),
        StaffRow(petro.id, "Petro Shevchenko", sales=2, taken_minor=PRICE + PRICE, refunded_minor=PRICE),
    )
    # Olena refunded on the 13th a sale Petro took on the 12th: it is hers, on the 13th.
    assert report(date(2026, 5, 13)).staff == (
        StaffRow(olena.id, "Olena Koval", sales=1, taken_minor=PRICE, refunded_minor=PRICE),
    )


def test_the_refunds_of_the_day_are_listed_and_a_refund_counts_on_the_day_it_was_paid_back(busy_day):
    split, transfer = busy_day["sales"]["split"], busy_day["sales"]["transfer"]

    (listed,) = report(date(2026, 5, 12)).refunds
    assert (listed.number, listed.sale_id, listed.sale_number, listed.reason, listed.method, listed.amount_minor,
            listed.staff_name) == (busy_day["same_day"].number, split.id, split.number, "Wrong colour", "cash",
                                   PRICE, "Petro Shevchenko")
    assert listed.created_at == at(2026, 5, 12, 16, 0)

    (next_day,) = report(date(2026, 5, 13)).refunds
    assert (next_day.number, next_day.sale_number) == (busy_day["next_day"].number, transfer.number)
    bank = report(date(2026, 5, 13)).methods[2]
    assert (bank.method, bank.payments, bank.taken_minor, bank.net_minor) == ("bank_transfer", 0, 0, -PRICE)


def test_sales_either_side_of_local_midnight_land_on_their_local_day(busy_day):
    # Kyiv is UTC+3 in May: 00:00 local on the 12th is 21:00 UTC on the 11th, and 23:59:59 local on the
    # 12th is still the 12th in UTC while 00:00 on the 13th is 21:00 UTC on the 12th.
    before = report(date(2026, 5, 11))
    assert before.totals.sales == 1 and before.methods[1].taken_minor == PRICE
    after = report(date(2026, 5, 13))
    assert after.totals.sales == 1 and after.methods[1].taken_minor == PRICE
    assert report(date(2026, 5, 12)).totals.sales == 4


def test_a_quiet_day_is_empty_and_still_lists_the_shops_methods(session):
    eod = report(date(2026, 5, 12))
    assert eod.empty
    assert eod.methods == tuple(MethodRow(m, 0, 0, 0) for m in METHODS)
    assert eod.staff == () and eod.refunds == ()
    assert (eod.totals.taken_minor, eod.totals.net_minor, eod.totals.change_minor) == (0, 0, 0)


def test_a_method_outside_the_shops_list_still_shows(session):
    # A method dropped from PAYMENT_METHODS after it was used must not vanish from the takings.
    sell(case_item(), person("Iryna"), at(2026, 5, 12, 10), ("card", PRICE))
    eod = end_of_day(db.session, date(2026, 5, 12), KYIV, methods=["cash"])
    assert eod.methods == (MethodRow("cash", 0, 0, 0), MethodRow("card", 1, PRICE, 0))


@pytest.mark.parametrize(("day", "hours", "start"), [
    (date(2026, 3, 29), 23, datetime(2026, 3, 28, 22, 0, tzinfo=UTC)),  # clocks go forward at 03:00
    (date(2026, 10, 25), 25, datetime(2026, 10, 24, 21, 0, tzinfo=UTC)),  # clocks go back at 04:00
    (date(2026, 5, 12), 24, datetime(2026, 5, 11, 21, 0, tzinfo=UTC)),
])
def test_a_day_when_the_clocks_change_has_23_or_25_hours(day, hours, start):
    begins, ends = day_bounds_utc(day, KYIV)
    assert begins == start
    assert ends - begins == timedelta(hours=hours)


def test_sales_on_the_night_the_clocks_go_back_count_on_the_right_days(session):
    desk, item = person("Desk"), case_item()
    sell(item, desk, at(2026, 10, 25, 0, 30), ("card", PRICE))  # 21:30 UTC on the 24th (summer time)
    sell(item, desk, at(2026, 10, 25, 23, 30), ("card", PRICE))  # 21:30 UTC on the 25th (winter time)
    sell(item, desk, at(2026, 10, 26, 0, 30), ("card", PRICE))  # 22:30 UTC on the 25th
    sell(item, desk, at(2026, 10, 24, 23, 30), ("card", PRICE))  # 20:30 UTC on the 24th

    assert [report(date(2026, 10, d)).totals.sales for d in (24, 25, 26)] == [1, 2, 1]


def test_sales_on_the_night_the_clocks_go_forward_count_on_the_right_days(session):
    desk, item = person("Desk"), case_item()
    sell(item, desk, at(2026, 3, 28, 23, 30), ("card", PRICE))  # 21:30 UTC on the 28th (winter time)
    sell(item, desk, at(2026, 3, 29, 0, 30), ("card", PRICE))  # 22:30 UTC on the 28th
    sell(item, desk, at(2026, 3, 29, 23, 30), ("card", PRICE))  # 20:30 UTC on the 29th (summer time)
    sell(item, desk, at(2026, 3, 30, 0, 10), ("card", PRICE))  # 21:10 UTC on the 29th

    assert [report(date(2026, 3, d)).totals.sales for d in (28, 29, 30)] == [1, 2, 1]


def test_the_report_is_four_statements_however_many_sales(session, count_queries):
    desk, item = person("Desk"), case_item()
    for minute in range(12):
        sell(item, desk, at(2026, 5, 12, 10, minute), ("cash", PRICE))
    with count_queries() as counter:
        report(date(2026, 5, 12))
    assert counter.count == 4, counter.statements


# --- the page ------------------------------------------------------------------------------------------

PAGE = "/sales/end-of-day"


def shop_today(app) -> date:
    return datetime.now(ZoneInfo(app.config["SHOP_TIMEZONE"])).date()


def sales_on(app, day: date, count: int, *, name: str = "Page Desk") -> None:
    with app_session(app):
        desk, item = person(name), case_item()
        tz = ZoneInfo(app.config["SHOP_TIMEZONE"])
        for n in range(count):
            when = datetime(day.year, day.month, day.day, 10, n, tzinfo=tz).astimezone(UTC)
            sell(item, desk, when, ("cash", PRICE))


@pytest.mark.usefixtures("cheap_password_hashing")
@pytest.mark.parametrize(("role", "status"), [("technician", 403), ("front_desk", 200), ("manager", 200)])
def test_front_desk_and_managers_see_the_report_technicians_do_not(auth, client, role, status):
    auth.login(role)
    response = client.get(PAGE)
    assert response.status_code == status
    nav = client.get("/customers").get_data(as_text=True)
    assert (f'href="{PAGE}"' in nav) is (status == 200)


def test_anonymous_is_sent_to_log_in(client):
    response = client.get(PAGE)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")


@pytest.mark.usefixtures("cheap_password_hashing")
def test_the_page_shows_the_chosen_day_with_links_to_the_days_around_it(app, auth, client):
    sales_on(app, date(2026, 5, 12), 2, name="Olena Koval")
    auth.login("front_desk")
    html = client.get(PAGE + "?day=2026-05-12").get_data(as_text=True)

    assert 'value="2026-05-12"' in html and '<label class="form-label mb-0" for="day">Day</label>' in html
    assert f'href="{PAGE}?day=2026-05-11"' in html and f'href="{PAGE}?day=2026-05-13"' in html
    assert "data-print" in html and "js/print.js" in html  # the Print button (static/js/print.js: no inline script)
    assert "Olena Koval" in html and format_money(2 * PRICE, app.config["CURRENCY"], "en") in html
    assert "Cash" in html and "Bank transfer" in html
    assert 'id="empty-day"' not in html and 'id="day-notice"' not in html


@pytest.mark.usefixtures("cheap_password_hashing")
def test_without_a_day_the_page_shows_today_in_the_shops_time_zone(app, auth, client):
    sales_on(app, shop_today(app), 1, name="Today Desk")
    auth.login("manager")
    html = client.get(PAGE).get_data(as_text=True)
    assert f'value="{shop_today(app).isoformat()}"' in html
    assert "Today Desk" in html


@pytest.mark.usefixtures("cheap_password_hashing")
def test_an_empty_day_says_so(auth, client):
    auth.login("front_desk")
    html = client.get(PAGE + "?day=2001-02-03").get_data(as_text=True)
    assert 'id="empty-day"' in html and "No sales, payments or refunds on this day." in html


@pytest.mark.usefixtures("cheap_password_hashing")
@pytest.mark.parametrize("value", ["yesterday", "2026-02-30", "0001-01-01", "9999-12-31", "1899-12-31",
                                   "2026-05-12%00", "x" * 500, "-1"])
def test_a_bad_day_falls_back_to_today_with_a_message(app, auth, client, value):
    auth.login("front_desk")
    response = client.get(f"{PAGE}?day={value}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="day-notice"' in html
    assert f'value="{shop_today(app).isoformat()}"' in html


@pytest.mark.usefixtures("cheap_password_hashing")
def test_the_last_and_first_days_the_calendar_allows_still_render(auth, client):
    auth.login("front_desk")
    for day in ("1900-01-01", "9999-12-30"):
        response = client.get(f"{PAGE}?day={day}")
        assert response.status_code == 200 and f'value="{day}"' in response.get_data(as_text=True)


@pytest.mark.usefixtures("cheap_password_hashing")
def test_the_page_costs_the_same_statements_for_one_sale_or_ten(app, auth, client, count_queries):
    auth.login("front_desk")
    url = PAGE + "?day=2026-05-12"
    sales_on(app, date(2026, 5, 12), 1)
    client.get(url)  # warm up: the first request may load things once per process
    with count_queries() as one:
        assert client.get(url).status_code == 200
    sales_on(app, date(2026, 5, 12), 9)
    with count_queries() as ten:
        html = client.get(url).get_data(as_text=True)
    assert ten.count == one.count, (one.statements, ten.statements)
    assert format_money(10 * PRICE, app.config["CURRENCY"], "en") in html
