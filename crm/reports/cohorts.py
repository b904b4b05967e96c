"""Retention in the Loyalty report: customers grouped by the month of their first paid sale (the shop's months
that the range touches), and the share of each cohort that bought again 1, 2, ... 12 months later.

One statement: each moment is turned into its month's number by a CASE over the months' UTC bounds, computed
here, so the shop's time zone and its clock changes are applied the same way on every database."""

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from crm.sales.models import Sale, SaleStatus
from crm.shop_time import day_bounds_utc

MONTHS_AFTER = 12


@dataclass
class Cohort:
    month: date  # the 1st of the cohort's month
    customers: int
    came_back: list[int | None]  # per month 1..12: customers with a paid sale then; None: month not over yet


def _add_months(day: date, months: int) -> date:
    total = day.year * 12 + day.month - 1 + months
    return date(total // 12, total % 12 + 1, 1)


def _month_number(moment, bounds):
    return case(*[(moment < bound, index - 1) for index, bound in enumerate(bounds) if index > 0], else_=None)


def cohorts(session: Session, first: date, last: date, today: date, tz: ZoneInfo, *,
            plan: str | None = None) -> list[Cohort]:
    """The cohorts of the months from ``first``'s to ``last``'s; a month after the cohort's counts once it is
    over (its last day before ``today``). ``plan`` ("lookup" or "join", by default the database's best) only
    changes how the same counts are found."""
    months = [first.replace(day=1)]
    while months[-1] < last.replace(day=1):
        months.append(_add_months(months[-1], 1))
    starts = [_add_months(months[0], i) for i in range(len(months) + MONTHS_AFTER + 1)]
    bounds = [day_bounds_utc(day, tz)[0] for day in starts]
    paid = (Sale.status == SaleStatus.PAID, Sale.customer_id.is_not(None))
    firsts = (select(Sale.customer_id.label("customer_id"), func.min(Sale.paid_at).label("first"))
              .where(*paid).group_by(Sale.customer_id).subquery())
    cohort_of = (select(firsts.c.customer_id, _month_number(firsts.c.first, bounds).label("cohort"))
                 .where(firsts.c.first >= bounds[0], firsts.c.first < bounds[len(months)]).subquery())
    visits = (select(Sale.customer_id.label("customer_id"), _month_number(Sale.paid_at, bounds).label("month"))
              .where(*paid, Sale.paid_at >= bounds[0], Sale.paid_at < bounds[-1]).distinct().subquery())
    plan = plan or ("lookup" if session.get_bind().dialect.name == "sqlite" else "join")
    if plan == "lookup":
        # SQLite joins two grouped subqueries row by row (minutes at 100k customers): look each cohort
        # customer's sales up through the customer index instead. PostgreSQL hashes the subqueries (0.1 s) and
        # would be slower the SQLite way, so each database gets its own plan for the same counts.
        month = _month_number(Sale.paid_at, bounds)
        counting = (select(cohort_of.c.cohort, month, func.count(Sale.customer_id.distinct()))
                    .join(Sale, Sale.customer_id == cohort_of.c.customer_id)
                    .where(*paid, Sale.paid_at >= bounds[0], Sale.paid_at < bounds[-1])
                    .group_by(cohort_of.c.cohort, month))
    else:
        counting = (select(cohort_of.c.cohort, visits.c.month, func.count())
                    .join(visits, visits.c.customer_id == cohort_of.c.customer_id)
                    .group_by(cohort_of.c.cohort, visits.c.month))
    counts = {(int(cohort), int(month)): int(customers) for cohort, month, customers in session.execute(counting)}
    result = []
    for index, month in enumerate(months):
        came_back = [counts.get((index, index + k), 0) if _add_months(month, k + 1) <= today else None
                     for k in range(1, MONTHS_AFTER + 1)]
        result.append(Cohort(month, counts.get((index, index), 0), came_back))
    return result
