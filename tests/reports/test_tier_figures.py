"""Tiers in the Loyalty report: members per tier at the end of a range, read back from the moves, and the moves
up and down in the range."""

from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select

from crm.loyalty.models import Account, Tier, TierChange
from crm.reports import display, period, tiers
from tests.reports import shop

KYIV = ZoneInfo("Europe/Kyiv")
MARCH = period.make("custom", date(2026, 3, 1), date(2026, 3, 31), KYIV)


def _move(session, customer, from_tier, to_tier, when):
    session.add(TierChange(customer_id=customer.id, from_tier_id=from_tier.id, to_tier_id=to_tier.id, reason="t",
                           created_at=shop.at(when)))
    session.get(Account, customer.id).tier_id = to_tier.id
    session.flush()


def test_members_per_tier_at_the_end_and_the_moves(session):
    people = shop.build(session)  # Dana, Anna and Boris join in the lowest tier
    entry, second = session.scalars(select(Tier).order_by(Tier.rank).limit(2)).all()
    assert session.get(Account, people["a"].id).tier_id == entry.id
    _move(session, people["d"], entry, second, "2026-02-15T10:00")  # Dana up in February...
    _move(session, people["a"], entry, second, "2026-03-15T10:00")  # Anna up in March
    _move(session, people["d"], second, entry, "2026-03-20T10:00")  # ...and Dana down again in March
    february = period.previous(MARCH, KYIV)
    now = tiers.tier_figures(session, MARCH.start_utc, MARCH.end_utc)
    before = tiers.tier_figures(session, february.start_utc, february.end_utc)
    assert (now.members, now.moves_up, now.moves_down) == ({entry.id: 2, second.id: 1}, 1, 1)
    assert (before.members, before.moves_up, before.moves_down) == ({entry.id: 1, second.id: 1}, 1, 0)
    rows = {row.key: (row.value, row.previous) for row in display.tiers_table(tiers.tier_names(session), now, before)}
    assert rows[f"tier_{entry.id}"] == (2, 1) and rows[f"tier_{second.id}"] == (1, 1)
    assert rows["moves_up"] == (1, 1) and rows["moves_down"] == (1, 0) and "tier_none" not in rows
