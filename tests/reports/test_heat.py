"""The retention table as a heat map: a CSS class per cell from the share, never an inline style."""

import re

import pytest

from crm.reports import heat
from crm.reports.cohorts import Cohort
from tests.reports import shop

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


@pytest.mark.parametrize(("back", "customers", "level"), [
    (0, 3, 0), (1, 3, 3), (2, 3, 7), (3, 3, 10), (1, 20, 1), (1, 40, 0), (3, 40, 1), (None, 3, None), (0, 0, None),
])
def test_the_level_is_the_share_rounded_half_up_to_a_tenth(back, customers, level):
    assert heat.heat_level(back, customers) == level


def test_each_cell_gets_its_class_and_a_month_not_over_none():
    from datetime import date
    rows = heat.cohort_heat([Cohort(date(2026, 3, 1), 4, [2, 1, None]), Cohort(date(2026, 4, 1), 0, [0, None, None])])
    assert rows == [["heat-5", "heat-3", ""], ["", "", ""]]


def test_the_loyalty_report_colours_the_retention_cells_by_class(app, auth, client):
    with app.app_context():
        from crm.extensions import db
        shop.build(db.session)
        db.session.commit()
    auth.login("manager")
    page = client.get("/reports/loyalty?period=custom&start=2026-03-01&end=2026-03-31").get_data(as_text=True)
    table = re.search(r'<table[^>]*id="cohort-table".*?</table>', page, re.S).group(0)
    # March's cohort: Anna, Boris and Chris; Boris is back in April (1 April, 00:30 in Kyiv): 1 of 3
    assert '<td class="text-end heat-3">33.3 %</td>' in table
    assert "style=" not in table
