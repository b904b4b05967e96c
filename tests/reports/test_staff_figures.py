"""The staff report's figures on a shop built by hand (tests/reports/staff_shop.py), exact values."""

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select

from crm.auth.models import StaffUser
from crm.reports import period, staff
from tests.reports import staff_shop
from tests.reports.shop import at

KYIV = ZoneInfo("Europe/Kyiv")
MARCH = period.make("custom", date(2026, 3, 1), date(2026, 3, 31), KYIV)
HOUR_DS = 36_000  # tenths of a second in an hour


def technicians(session, **kwargs):
    return {row.name: row for row in staff.technician_figures(session, MARCH.start_utc, MARCH.end_utc, KYIV,
                                                              **kwargs)}


def test_the_technicians_figures(session):
    staff_shop.build(session)
    rows = technicians(session)
    assert list(rows) == ["Anna Tech", "Boris Tech", "Chris Tech"]
    anna = rows["Anna Tech"]
    assert (anna.finished, anna.with_due_date, anna.on_time) == (4, 3, 1)
    # 4, 10, 37.5, 48 hours: median (10 + 37.5) / 2; 90th percentile 37.5 + 0.7 x (48 - 37.5)
    assert anna.median_ds == 23.75 * HOUR_DS and anna.p90_ds == 44.85 * HOUR_DS
    assert anna.warranty_returns == 1
    assert (anna.labour_paid_minor, anna.labour_refunded_minor, anna.labour_minor) == (160_000, 20_000, 140_000)
    assert (anna.ratings, anna.rating_sum) == (2, 7)
    assert anna.commission_bp == 1250
    boris = rows["Boris Tech"]
    assert (boris.finished, boris.median_ds, boris.p90_ds) == (1, 5 * HOUR_DS, 5 * HOUR_DS)
    assert (boris.warranty_returns, boris.labour_minor, boris.ratings) == (0, 0, 0)
    chris = rows["Chris Tech"]
    assert (chris.finished, chris.median_ds, chris.p90_ds, chris.with_due_date) == (0, None, None, 0)


def test_one_technician_only(session):
    built = staff_shop.build(session)
    rows = technicians(session, only=built["boris"].id)
    assert list(rows) == ["Boris Tech"] and rows["Boris Tech"].finished == 1


def test_an_empty_shop_has_rows_of_zeros(session):
    staff_shop.person(session, "Lone Tech")
    (row,) = staff.technician_figures(session, MARCH.start_utc, MARCH.end_utc, KYIV)
    assert (row.finished, row.median_ds, row.labour_minor, row.ratings, row.warranty_returns) == (0, None, 0, 0, 0)
    assert staff.desk_figures(session, MARCH.start_utc, MARCH.end_utc) == []


def test_the_desk_figures(session):
    staff_shop.build(session)
    rows = {row.name: row for row in staff.desk_figures(session, MARCH.start_utc, MARCH.end_utc)}
    assert list(rows) == ["Boss", "Dana Desk", "Emil Desk"]
    dana = rows["Dana Desk"]
    assert (dana.sales, dana.revenue_minor, dana.points_redeemed, dana.coupons) == (3, 215_000, 10, 1)
    assert (dana.refunds, dana.refunded_minor) == (0, 0)
    boss = rows["Boss"]
    assert (boss.sales, boss.refunds, boss.refunded_minor) == (0, 1, 20_000)
    assert rows["Emil Desk"].sales == 0


def test_april_sees_the_other_side_of_the_month_boundaries(session):
    staff_shop.build(session)
    april = period.make("custom", date(2026, 4, 1), date(2026, 4, 30), KYIV)
    rows = {row.name: row for row in staff.technician_figures(session, april.start_utc, april.end_utc, KYIV)}
    anna = rows["Anna Tech"]
    assert anna.finished == 1 and anna.median_ds == 37.5 * HOUR_DS  # ready 1 April 00:30 Kyiv
    assert (anna.labour_minor, anna.warranty_returns, anna.ratings) == (99_999, 1, 0)


def test_utc_offsets_find_the_clock_change():
    pieces = staff.utc_offsets(KYIV, MARCH.start_utc, MARCH.end_utc)
    assert pieces == [(at("2026-03-29T01:00"), 7200), (None, 10800)]
    assert staff.utc_offsets(KYIV, at("2026-06-01T00:00"), at("2026-06-30T00:00")) == [(None, 10800)]


def test_members_enrolled_count_for_who_enrolled_them_in_the_range(session):
    from crm.loyalty import accounts
    from tests import factories

    staff_shop.build(session)
    dana = session.scalar(select(StaffUser).where(StaffUser.full_name == "Dana Desk"))
    for n, when in enumerate((at("2026-03-02T10:00"), at("2026-03-31T20:59"), at("2026-03-31T21:01"))):
        accounts.enrol(session, factories.customer(phone=f"+38067118{n:04d}"), actor=dana, now=when)
    accounts.enrol(session, factories.customer(phone="+380671189999"), now=at("2026-03-10T10:00"))  # by nobody
    rows = {row.name: row for row in staff.desk_figures(session, MARCH.start_utc, MARCH.end_utc)}
    assert rows["Dana Desk"].enrolled == 2  # 31 March 21:01 UTC is 1 April in Kyiv
    assert rows["Emil Desk"].enrolled == 0
