"""What the loyalty program cost in a range, against what members bought, and an estimate of its return.

The cost is what the program took off paid bills: the value of the points spent, the tier discounts and the
coupon discounts. A sale stores its bill-level reductions on its lines (``orders_sale_line.adjustment_minor``:
points, tier discount and coupon, spread over the lines by crm.sales.pricing), the points spent
(``orders_sale.points_redeemed``) and each coupon use its amount (``loyalty_coupon_use.amount_minor``); the tier
discount is what remains of the reductions. One statement. The estimate is a pure function of the figures; its
formula and assumptions are written on the dashboard and in docs/reports.md."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from crm.loyalty.models import CouponUse
from crm.reports.display import ratio
from crm.reports.loyalty import Figures
from crm.sales.models import Sale, SaleLine, SaleStatus


@dataclass
class ProgramCost:
    points_redeemed: int = 0  # points spent on bills paid in the range
    points_minor: int = 0  # those points at the program's point value
    tier_minor: int = 0
    coupon_minor: int = 0
    reductions_minor: int = 0  # every bill-level reduction of those bills (the three above)

    @property
    def total_minor(self) -> int:
        return self.points_minor + self.tier_minor + self.coupon_minor


def program_cost(session: Session, start: datetime, end: datetime, *, point_value_minor: int) -> ProgramCost:
    """The program's cost on the bills paid in [start, end)."""
    # The range alone filters (its index on paid_at); the status is tested in the sum: with "status = 'paid'" in
    # the WHERE, SQLite without ANALYZE walks the (status, id) index over every paid sale instead.
    in_range = (Sale.paid_at >= start, Sale.paid_at < end)
    paid = Sale.status == SaleStatus.PAID
    points = select(func.coalesce(func.sum(case((paid, Sale.points_redeemed), else_=0)), 0)).where(*in_range)
    # Only bills with a reduction have lines with one (a sale's discount_minor sums its lines' discounts and
    # adjustments): the lines are then read through their sale_id index, not all scanned.
    reductions = (select(func.coalesce(func.sum(case((paid, SaleLine.adjustment_minor), else_=0)), 0))
                  .join(Sale, Sale.id == SaleLine.sale_id).where(*in_range, Sale.discount_minor > 0).scalar_subquery())
    coupon = (select(func.coalesce(func.sum(CouponUse.amount_minor), 0))
              .where(CouponUse.used_at >= start, CouponUse.used_at < end).scalar_subquery())
    spent, reduced, by_coupon = (int(v) for v in session.execute(select(points.scalar_subquery(), reductions,
                                                                              coupon)).one())
    points_minor = spent * point_value_minor
    return ProgramCost(points_redeemed=spent, points_minor=points_minor, coupon_minor=by_coupon,
                       tier_minor=max(0, reduced - points_minor - by_coupon), reductions_minor=reduced)


@dataclass
class Estimate:
    """Incremental revenue = (members' average check - non-members' average check) x members' paid sales;
    ROI = (incremental revenue - program cost) / program cost. Exact; rounded at display."""

    cost: ProgramCost
    member_revenue_minor: int  # members' revenue, net of refunds
    member_sales: int
    member_check: Decimal | None  # None: no paid sale to divide by
    other_check: Decimal | None

    @property
    def cost_share(self) -> Decimal | None:
        """The program's cost as a share of the members' revenue."""
        return ratio(self.cost.total_minor, self.member_revenue_minor) if self.member_revenue_minor > 0 else None

    @property
    def incremental_minor(self) -> Decimal | None:
        if self.member_check is None or self.other_check is None:
            return None
        return (self.member_check - self.other_check) * self.member_sales

    @property
    def roi(self) -> Decimal | None:
        incremental = self.incremental_minor
        if incremental is None or self.cost.total_minor <= 0:
            return None
        return (incremental - self.cost.total_minor) / Decimal(self.cost.total_minor)


def estimate(figures: Figures, cost: ProgramCost) -> Estimate:
    members, others = figures.members, figures.others
    return Estimate(cost=cost, member_revenue_minor=members.net_minor, member_sales=members.sales,
                    member_check=ratio(members.net_minor, members.sales),
                    other_check=ratio(others.net_minor, others.sales))
