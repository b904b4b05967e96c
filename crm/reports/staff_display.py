"""The staff report's tables: the figures of crm.reports.staff as the page and the CSV show them. Rates, averages,
hours and the commission are divided here and rounded once (docs/reports.md, "Rounding")."""

from decimal import Decimal

from flask_babel import format_decimal

from crm.forms_common import percent_text
from crm.locales import lazy_gettext as _l
from crm.money import shop_money
from crm.reports.display import ratio, rounded, show
from crm.reports.staff import DeskFigures, TechnicianFigures

TENTHS_OF_A_SECOND_PER_HOUR = 36_000

TECHNICIAN_COLUMNS = (
    _l("Technician"), _l("Repairs finished"), _l("Median turnaround, hours (wall time)"),
    _l("90th percentile turnaround, hours (wall time)"), _l("Finished by the due date"), _l("Warranty returns"),
    _l("Labour revenue (net of refunds)"), _l("Average rating"), _l("Ratings"), _l("Commission rate"),
    _l("Commission estimate"),
)
DESK_COLUMNS = (
    _l("Staff member"), _l("Sales"), _l("Revenue"), _l("Members enrolled"), _l("Points redeemed"),
    _l("Coupons applied"), _l("Refunds issued"), _l("Amount refunded"),
)


def hours(tenths_of_seconds: int | None) -> str:
    if tenths_of_seconds is None:
        return "—"
    value = rounded(Decimal(tenths_of_seconds) / TENTHS_OF_A_SECOND_PER_HOUR, "0.1")
    return format_decimal(value, format="0.0")


def commission_minor(labour_minor: int, basis_points: int) -> int:
    """The rate applied to the labour, rounded half up to the minor unit (negative when refunds exceed labour)."""
    return int(rounded(Decimal(labour_minor * basis_points) / 10_000, "1"))


def technician_header() -> list[str]:
    return [str(label) for label in TECHNICIAN_COLUMNS]


def technician_rows(figures: list[TechnicianFigures]) -> list[list[str]]:
    return [[row.name, show("count", row.finished), hours(row.median_ds), hours(row.p90_ds),
             show("rate", ratio(row.on_time, row.with_due_date)), show("count", row.warranty_returns),
             shop_money(row.labour_minor), show("rating", ratio(row.rating_sum, row.ratings)),
             show("count", row.ratings), percent_text(row.commission_bp) + " %",
             shop_money(commission_minor(row.labour_minor, row.commission_bp))] for row in figures]


def desk_header() -> list[str]:
    return [str(label) for label in DESK_COLUMNS]


def desk_rows(figures: list[DeskFigures]) -> list[list[str]]:
    return [[row.name, show("count", row.sales), shop_money(row.revenue_minor), show("count", row.enrolled),
             show("count", row.points_redeemed),
             show("count", row.coupons), show("count", row.refunds), shop_money(row.refunded_minor)]
            for row in figures]
