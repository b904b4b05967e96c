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


def test_pages_of_orders_that_tie_on_every_key_neither_share_nor_skip_a_row(session):
    """Same priority, no due date, one intake time: the order id settles the order, so page 2 goes on where page
    1 stopped."""
    technician = staff_member(session, Role.TECHNICIAN)
    customer = factories.customer()
    orders = [factories.order(customer, technician_id=technician.id) for _ in range(7)]
    same_time = orders[0].created_at
    for order in orders:
        order.created_at = same_time
    session.flush()

    pages = [queries.technician_queue(session, technician.id, page=n, per_page=3) for n in (1, 2, 3)]

    seen = [row.id for rows, _ in pages for row in rows]
    assert seen == sorted(o.id for o in orders)
    assert [has_next for _, has_next in pages] == [True, True, False]
