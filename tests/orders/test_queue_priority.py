"""The technician's queue puts customers whose loyalty tier has queue priority (Gold by default)
right after urgent orders, and marks them VIP."""

from sqlalchemy import select

from crm.auth.models import Role
from crm.loyalty import accounts
from crm.loyalty.models import Tier
from crm.orders import queries
from tests import factories
from tests.factories.sales import staff_member


def test_vip_customers_come_after_urgent_orders_and_before_the_rest(session):
    technician = staff_member(session, Role.TECHNICIAN)
    plain = factories.order(factories.customer(), technician_id=technician.id)
    gold_customer = factories.customer()
    account = accounts.enrol(session, gold_customer)
    account.tier_id = session.scalar(select(Tier.id).where(Tier.name == "Gold"))
    vip = factories.order(gold_customer)
    urgent = factories.order(factories.customer(), priority=2)
    session.flush()

    orders, _ = queries.technician_queue(session, technician.id)

    assert [o.id for o in orders] == [urgent.id, vip.id, plain.id]
    assert [o.vip for o in orders] == [False, True, False]  # the VIP badge
