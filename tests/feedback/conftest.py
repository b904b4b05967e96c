from datetime import UTC, datetime

import pytest

from crm.sales import checkout
from tests.factories import sales

PICKED_UP_AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def picked_up_order(session, *, at: datetime = PICKED_UP_AT, customer=None, technician=None):
    """A repair paid for and handed back at ``at``, through the real checkout (the only way to "picked up")."""
    order = sales.ready_order(session, customer=customer)
    if technician is not None:
        order.technician_id = technician.id
    desk = sales.staff_member(session)
    sale = checkout.sale_for_repair(session, order.id, actor=desk, now=at)
    sales.pay(session, sale.id, actor=desk, now=at)
    session.flush()
    return order


@pytest.fixture
def picked_up(session):
    return lambda **kw: picked_up_order(session, **kw)
