"""The retention table as a heat map: each share gets a CSS class heat-0 (nobody came back) .. heat-10
(everybody), the share rounded half up to a tenth (static/css/app.css colours them; no inline style)."""

from decimal import ROUND_HALF_UP, Decimal

LEVELS = 10


def heat_level(back: int | None, customers: int) -> int | None:
    """None for a month not over yet or an empty cohort (the cell shows "—" and stays uncoloured)."""
    if back is None or customers <= 0:
        return None
    level = (Decimal(back) * LEVELS / Decimal(customers)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return max(0, min(LEVELS, int(level)))


def cohort_heat(retention) -> list[list[str]]:
    """Per cohort (crm.reports.cohorts.Cohort), the CSS class of each month's cell ("" when uncoloured)."""
    return [["" if (level := heat_level(back, row.customers)) is None else f"heat-{level}" for back in row.came_back]
            for row in retention]
