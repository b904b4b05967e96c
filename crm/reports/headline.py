"""The dashboard's headline figures and its program-cost table, each with the previous period and the change
(crm.reports.display.Row), from the Loyalty report's Figures, the program's cost and the paid repairs.
Definitions in docs/reports.md."""

from datetime import datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from crm.locales import lazy_gettext as _l
from crm.reports.display import Row, ratio
from crm.reports.loyalty import Figures
from crm.reports.roi import Estimate
from crm.sales.models import Sale, SaleStatus


def paid_repairs(session: Session, start: datetime, end: datetime) -> int:
    """Paid sales in [start, end) that are the checkout of a repair order."""
    repair = and_(Sale.status == SaleStatus.PAID, Sale.repair_order_id.is_not(None))  # in the sum: see roi.py
    return int(session.scalar(select(func.coalesce(func.sum(case((repair, 1), else_=0)), 0))
                              .where(Sale.paid_at >= start, Sale.paid_at < end)))


HEADLINE_LABELS = {
    "revenue": _l("Revenue (net of refunds)"), "paid_repairs": _l("Paid repairs"), "average_check": _l("Average check"),
    "members": _l("Members"), "new_members": _l("New members"), "active_members": _l("Active members"),
    "liability": _l("Points liability"), "redemption_rate": _l("Redemption rate"),
    "average_rating": _l("Average rating"), "roi": _l("ROI estimate"),
}


def _headline(f: Figures, repairs: int, roi: Estimate) -> dict:
    net = f.members.net_minor + f.others.net_minor
    return {
        "revenue": ("money", net), "paid_repairs": ("count", repairs),
        "average_check": ("money", ratio(net, f.members.sales + f.others.sales)),
        "members": ("count", f.members_at_end), "new_members": ("count", f.new_members),
        "active_members": ("count", f.active_members), "liability": ("money", f.money(f.liability_points)),
        "redemption_rate": ("rate", ratio(f.redeemed, f.issued)),
        "average_rating": ("rating", ratio(f.rating_sum, f.ratings)), "roi": ("rate", roi.roi),
    }


def headline_rows(now: tuple[Figures, int, Estimate], before: tuple[Figures, int, Estimate]) -> list[Row]:
    """``now`` and ``before``: (figures, paid repairs, ROI estimate) of the range and of the previous period."""
    return _rows(HEADLINE_LABELS, _headline(*now), _headline(*before))


COST_LABELS = {
    "points_cost": _l("Value of points redeemed"), "tier_cost": _l("Tier discounts"),
    "coupon_cost": _l("Coupon discounts"), "program_cost": _l("Program cost"),
    "member_revenue": _l("Revenue from members (net of refunds)"),
    "cost_share": _l("Program cost as a share of members' revenue"),
    "check_members": _l("Average check, members"), "check_others": _l("Average check, non-members"),
    "member_sales": _l("Members' paid sales"), "incremental": _l("Incremental revenue estimate"),
    "roi": _l("ROI estimate"),
}


def _cost(e: Estimate) -> dict:
    return {
        "points_cost": ("money", e.cost.points_minor), "tier_cost": ("money", e.cost.tier_minor),
        "coupon_cost": ("money", e.cost.coupon_minor), "program_cost": ("money", e.cost.total_minor),
        "member_revenue": ("money", e.member_revenue_minor), "cost_share": ("rate", e.cost_share),
        "check_members": ("money", e.member_check), "check_others": ("money", e.other_check),
        "member_sales": ("count", e.member_sales), "incremental": ("money", e.incremental_minor),
        "roi": ("rate", e.roi),
    }


def cost_rows(now: Estimate, before: Estimate) -> list[Row]:
    return _rows(COST_LABELS, _cost(now), _cost(before))


def _rows(labels: dict, now: dict, before: dict) -> list[Row]:
    return [Row(key, str(labels[key]), now[key][0], now[key][1], before[key][1]) for key in labels]


def direction(row: Row) -> str | None:
    """"up", "down" or "same" for a figure's change; None when there is nothing to compare."""
    change = row.change
    if change is None:
        return None
    return "up" if change > 0 else "down" if change < 0 else "same"
