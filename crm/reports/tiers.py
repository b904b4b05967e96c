"""Tiers in the Loyalty report: how many members were in each tier at the end of the range, and the moves up and
down in the range. SQL aggregates from the tier-change history (definitions in docs/reports.md)."""

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from crm.loyalty.models import Account, Tier, TierChange


@dataclass
class TierFigures:
    members: dict[int | None, int] = field(default_factory=dict)  # tier id (None: no tier) -> members at the end
    moves_up: int = 0
    moves_down: int = 0


def _tier_at(end: datetime):
    """A member's tier just before ``end``: where the last move before it went; with no move before it, where
    the first move after it came from; with no move at all, the tier they are in now."""
    own = TierChange.customer_id == Account.customer_id
    before, after = and_(own, TierChange.created_at < end), and_(own, TierChange.created_at >= end)
    last_before = (select(TierChange.to_tier_id).where(before)
                   .order_by(TierChange.created_at.desc(), TierChange.id.desc()).limit(1).scalar_subquery())
    first_after = (select(TierChange.from_tier_id).where(after)
                   .order_by(TierChange.created_at, TierChange.id).limit(1).scalar_subquery())
    return case((exists().where(before), last_before), (exists().where(after), first_after), else_=Account.tier_id)


def tier_figures(session: Session, start: datetime, end: datetime) -> TierFigures:
    result = TierFigures()
    tier = _tier_at(end).label("tier")
    for tier_id, members in session.execute(select(tier, func.count()).where(Account.enrolled_at < end)
                                            .group_by(tier)):
        result.members[tier_id] = int(members)
    source, target = aliased(Tier), aliased(Tier)
    up = or_(and_(source.id.is_(None), target.id.is_not(None)), target.rank > source.rank)
    row = session.execute(
        select(func.coalesce(func.sum(case((up, 1), else_=0)), 0), func.count(TierChange.id))
        .select_from(TierChange).outerjoin(source, source.id == TierChange.from_tier_id)
        .outerjoin(target, target.id == TierChange.to_tier_id)
        .where(TierChange.created_at >= start, TierChange.created_at < end)).one()
    result.moves_up, result.moves_down = int(row[0]), int(row[1]) - int(row[0])
    return result


def tier_names(session: Session) -> list[tuple[int, str]]:
    """(id, name) of every tier, lowest first."""
    return [(row.id, row.name) for row in session.execute(select(Tier.id, Tier.name).order_by(Tier.rank))]
