"""Program settings services: tiers keep a unique name and rank, whoever calls."""

import pytest
from sqlalchemy import select

from crm.loyalty import program
from crm.loyalty.ledger import LoyaltyError
from crm.loyalty.models import AuditEntry, Tier

NEW = {"name": "Platinum", "rank": 40, "min_spend_minor": 5_000_000, "min_repairs": None, "earn_multiplier_pct": 200,
       "accessory_discount_bp": 1500, "free_diagnostics": True, "queue_priority": True}


def test_a_new_tier_is_saved_and_audited(session):
    tier = program.save_tier(session, None, NEW, actor=None)
    assert session.scalar(select(Tier.name).where(Tier.id == tier.id)) == "Platinum"
    assert session.scalar(select(AuditEntry.new_value).where(AuditEntry.subject == f"tier:{tier.id}",
                                                             AuditEntry.field == "name")) == "Platinum"


@pytest.mark.parametrize(("clash", "field"), [({"name": "Gold"}, "name"), ({"rank": None}, "rank")])
def test_a_name_or_rank_another_tier_has_is_refused(session, clash, field):
    gold = session.scalar(select(Tier).where(Tier.name == "Gold"))
    values = {**NEW, **{key: gold.rank if value is None else value for key, value in clash.items()}}
    with pytest.raises(LoyaltyError) as refused:
        program.save_tier(session, None, values, actor=None)
    assert refused.value.field == field
    assert program.tier_clashes(session, None, {"name": "Gold", "rank": gold.rank}).keys() == {"name", "rank"}


def test_a_tier_keeps_its_own_name_and_rank_when_edited(session):
    gold = session.scalar(select(Tier).where(Tier.name == "Gold"))
    program.save_tier(session, gold, {"name": "Gold", "rank": gold.rank, "earn_multiplier_pct": 175}, actor=None)
    assert gold.earn_multiplier_pct == 175
