"""Coupons in the Loyalty report: coupons issued and used in the range (personal and promo codes), the discount
they gave and the revenue of the bills that used one. SQL aggregates (definitions in docs/reports.md)."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.loyalty.models import Coupon, CouponUse
from crm.sales.models import Refund, Sale, SaleStatus

KINDS = ("personal", "promo")


@dataclass
class CouponFigures:
    issued: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    used: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    discount_minor: int = 0
    bills: int = 0
    paid_minor: int = 0
    refunded_minor: int = 0

    @property
    def net_minor(self) -> int:
        return self.paid_minor - self.refunded_minor


def coupon_figures(session: Session, start: datetime, end: datetime) -> CouponFigures:
    result = CouponFigures()
    for kind, issued in session.execute(select(Coupon.kind, func.count(Coupon.id))
                                        .where(Coupon.created_at >= start, Coupon.created_at < end)
                                        .group_by(Coupon.kind)):
        result.issued[kind] = int(issued)
    for kind, used, discount in session.execute(
            select(Coupon.kind, func.count(CouponUse.id), func.sum(CouponUse.amount_minor))
            .join(Coupon, Coupon.id == CouponUse.coupon_id)
            .where(CouponUse.used_at >= start, CouponUse.used_at < end).group_by(Coupon.kind)):
        result.used[kind] = int(used)
        result.discount_minor += int(discount or 0)
    with_coupon = Sale.coupon_code.is_not(None)
    paid_with_coupon = (Sale.status == SaleStatus.PAID) & with_coupon
    bills, paid = session.execute(select(func.count(Sale.id), func.coalesce(func.sum(Sale.total_minor), 0))
                                  .where(paid_with_coupon, Sale.paid_at >= start, Sale.paid_at < end)).one()
    result.bills, result.paid_minor = int(bills), int(paid)
    result.refunded_minor = int(session.scalar(
        select(func.coalesce(func.sum(Refund.amount_minor), 0)).join(Sale, Sale.id == Refund.sale_id)
        .where(with_coupon, Refund.created_at >= start, Refund.created_at < end)))
    return result
