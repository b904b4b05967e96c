"""Tiers: who qualifies for which, upgrades right after the payment that qualifies, downgrades only at
the periodic review, and what a customer still needs for the next tier.

A customer's activity over the rolling window (``tier_window_months`` back from now) is the sum of
``loyalty_activity``: money paid net of refunds, and paid repairs. They qualify for the highest
tier whose spend OR repairs threshold they reach (an empty threshold does not count; a tier with
neither is the entry tier)."""

from dataclasses import dataclass
from datetime import datetime

from dateutil.relativedelta import relativedelta
from sqlalchemy import case, false, func, insert, literal, or_, select, update
from sqlalchemy.orm import Session, aliased

from crm.customers.models import Customer
from crm.database import utcnow
from crm.locales import lazy_gettext as _l
from crm.locales import lazy_ngettext as _ln
from crm.loyalty import messages
from crm.loyalty.models import Account, Activity, Tier, TierChange
from crm.loyalty.program import get_program, tiers
from crm.money import shop_money


@dataclass(frozen=True)
class Standing:
    """What the desk needs to answer "why am I Silver?" and "what do I need for Gold?"."""

    tier: Tier | None
    next_tier: Tier | None
    spend_minor: int
    repairs: int
    window_months: int
    missing_spend_minor: int | None  # None: the next tier has no spend threshold
    missing_repairs: int | None


def window_start(session: Session, now: datetime) -> datetime:
    return now - relativedelta(months=get_program(session).tier_window_months)


def activity_totals(session: Session, customer_id: int, now: datetime, *,
                    window_months: int | None = None) -> tuple[int, int]:
    """Net spend and paid repairs over the window (the program's, unless ``window_months`` is given)."""
    since = now - relativedelta(months=window_months) if window_months is not None else window_start(session, now)
    spend, repairs = session.execute(
        select(func.coalesce(func.sum(Activity.spend_minor), 0), func.coalesce(func.sum(Activity.repairs), 0))
        .where(Activity.customer_id == customer_id, Activity.at > since, Activity.at <= now)
    ).one()
    return int(spend), int(repairs)


def qualifies(tier: Tier, spend_minor: int, repairs: int) -> bool:
    if tier.min_spend_minor is None and tier.min_repairs is None:
        return True
    return ((tier.min_spend_minor is not None and spend_minor >= tier.min_spend_minor)
            or (tier.min_repairs is not None and repairs >= tier.min_repairs))


def qualifying_tier(all_tiers: list[Tier], spend_minor: int, repairs: int) -> Tier | None:
    best = None
    for tier in all_tiers:  # by rank, ascending
        if qualifies(tier, spend_minor, repairs):
            best = tier
    return best


def standing(session: Session, account: Account, *, now: datetime | None = None) -> Standing:
    now = now or utcnow()
    spend, repairs = activity_totals(session, account.customer_id, now)
    return standing_of(tiers(session), account.tier_id, spend, repairs, get_program(session).tier_window_months)


def standing_of(all_tiers: list[Tier], tier_id: int | None, spend: int, repairs: int, window_months: int) -> Standing:
    """The standing of a member in tier ``tier_id`` with this activity over the window (tiers by rank)."""
    current = next((t for t in all_tiers if t.id == tier_id), None)
    above = [t for t in all_tiers if current is None or t.rank > current.rank]
    nxt = above[0] if above else None
    missing_spend = missing_repairs = None
    if nxt is not None:
        if nxt.min_spend_minor is not None:
            missing_spend = max(0, nxt.min_spend_minor - spend)
        if nxt.min_repairs is not None:
            missing_repairs = max(0, nxt.min_repairs - repairs)
    return Standing(tier=current, next_tier=nxt, spend_minor=spend, repairs=repairs, window_months=window_months,
                    missing_spend_minor=missing_spend, missing_repairs=missing_repairs)


def _reason(spend_minor: int, repairs: int, months: int) -> str:
    return str(_l("%(repairs)s and %(spend)s spent over %(months)s",
                  repairs=_ln("%(num)d paid repair", "%(num)d paid repairs", repairs), spend=shop_money(spend_minor),
                  months=_ln("%(num)d month", "%(num)d months", months)))


def upgrade_after_payment(session: Session, account: Account, *, now: datetime | None = None) -> Tier | None:
    """Move the (locked) account up to the best tier its activity reaches, never down. Returns the new
    tier when it moved."""
    now = now or utcnow()
    all_tiers = tiers(session)
    spend, repairs = activity_totals(session, account.customer_id, now)
    best = qualifying_tier(all_tiers, spend, repairs)
    current = next((t for t in all_tiers if t.id == account.tier_id), None)
    if best is None or (current is not None and best.rank <= current.rank):
        return None
    change = TierChange(customer_id=account.customer_id, from_tier_id=account.tier_id, to_tier_id=best.id,
                        reason=_reason(spend, repairs, get_program(session).tier_window_months), created_at=now)
    session.add(change)
    account.tier_id = best.id
    account.tier_since = now
    session.flush()
    messages.tier_changed(session, session.get(Customer, account.customer_id), change, now=now)
    return best


def review_tiers(session: Session, *, now: datetime | None = None) -> int:
    """The periodic review (the scheduler's daily job): every member whose activity over the window
    no longer reaches their tier moves down to the tier it does reach. Set-based: one aggregate
    query finds the members to move, one UPDATE per target tier moves them. Running it twice changes
    nothing the second time. Returns how many members moved."""
    now = now or utcnow()
    all_tiers = tiers(session)
    if not all_tiers:
        return 0
    totals = (select(Activity.customer_id, func.sum(Activity.spend_minor).label("spend"),
                     func.sum(Activity.repairs).label("repairs"))
              .where(Activity.at > window_start(session, now), Activity.at <= now)
              .group_by(Activity.customer_id).subquery())
    spend = func.coalesce(totals.c.spend, 0)
    repairs = func.coalesce(totals.c.repairs, 0)

    def reaches(tier: Tier):
        if tier.min_spend_minor is None and tier.min_repairs is None:
            return literal(True)
        return or_(spend >= tier.min_spend_minor if tier.min_spend_minor is not None else false(),
                   repairs >= tier.min_repairs if tier.min_repairs is not None else false())

    qualifying_rank = case(*[(reaches(t), t.rank) for t in reversed(all_tiers)], else_=0)
    current = aliased(Tier)
    rows = session.execute(
        select(Account.customer_id, Account.tier_id, qualifying_rank.label("rank"), spend, repairs)
        .join(current, current.id == Account.tier_id)
        .outerjoin(totals, totals.c.customer_id == Account.customer_id)
        .where(qualifying_rank < current.rank)
    ).all()
    by_rank = {t.rank: t for t in all_tiers}
    months = get_program(session).tier_window_months
    moved = 0
    for rank, from_tier_id in {(row.rank, row.tier_id) for row in rows}:
        target = by_rank.get(rank)
        group = {row.customer_id: row for row in rows if (row.rank, row.tier_id) == (rank, from_tier_id)}
        ids = sorted(group)
        for start in range(0, len(ids), 500):
            # Only accounts still in the tier this review saw: a review running at the same time in another
            # process has moved the others already (PostgreSQL re-checks the condition after the row lock).
            done = session.scalars(
                update(Account).where(Account.customer_id.in_(ids[start:start + 500]), Account.tier_id == from_tier_id)
                .values(tier_id=target.id if target else None, tier_since=now).returning(Account.customer_id)
                .execution_options(synchronize_session=False)).all()
            if done:
                session.execute(insert(TierChange), [
                    {"customer_id": cid, "from_tier_id": from_tier_id, "to_tier_id": target.id if target else None,
                     "reason": str(_l("Periodic review: %(why)s",
                                      why=_reason(int(group[cid][3]), int(group[cid][4]), months))),
                     "created_at": now} for cid in sorted(done)])
            moved += len(done)
    session.flush()
    return moved
