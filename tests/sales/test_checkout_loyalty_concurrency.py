"""Desks racing for the same points or the same coupon, for real (threads, own connections, real
commits; PostgreSQL when TEST_DATABASE_URL is set): points are never spent twice and a coupon is
never used more often than its limit."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from crm.auth.models import Role, StaffUser
from crm.errors import RuleError
from crm.loyalty import accounts, ledger
from crm.loyalty.models import Account, Coupon, CouponTemplate, CouponUse, LedgerEntry
from crm.loyalty.program import update_program
from crm.sales import checkout
from crm.sales.loyalty import LoyaltyRequest
from crm.sales.pricing import Tender
from tests import factories
from tests.factories.sales import PAYMENT_METHODS, SALE_PREFIX, new_item, new_key, run_at_once, staff_member

NOW = datetime.now(UTC)


def paying(sale_id: int, staff_id: int, total: int, loyalty: LoyaltyRequest):
    def desk(session):
        return checkout.checkout(session, sale_id, key=new_key(), tenders=[Tender("card", total)],
                                 expected_total_minor=total, actor=session.get(StaffUser, staff_id),
                                 payment_methods=PAYMENT_METHODS, number_prefix=SALE_PREFIX, loyalty=loyalty).number
    return desk


def test_two_checkouts_spending_the_same_points_at_once_spend_them_once(app, session):
    update_program(session, {"welcome_bonus": 0}, actor=None)
    customer = factories.customer()
    account = accounts.enrol(session, customer)
    ledger.credit(session, account, "adjust", 100, key="seed", expiry_months=12)
    case = new_item(session, price_minor=50_000, on_hand=10)
    staff = [staff_member(session, Role.FRONT_DESK).id for _ in range(4)]
    sales = []
    for _ in staff:
        sale = checkout.open_sale(session, actor=None, customer=customer)
        checkout.add_item(session, sale, case, 1)
        sales.append(sale.id)
    customer_id = customer.id
    session.commit()
    session.close()

    outcomes = run_at_once(app, *[paying(sale_id, desk, 40_000, LoyaltyRequest(points=100))
                                  for sale_id, desk in zip(sales, staff, strict=True)])

    paid = [o for o in outcomes if isinstance(o, str)]
    assert len(paid) == 1
    assert all(isinstance(o, RuleError) for o in outcomes if not isinstance(o, str))
    redeemed = session.scalar(select(func.sum(LedgerEntry.points)).where(LedgerEntry.customer_id == customer_id,
                                                                         LedgerEntry.kind == "redeem"))
    assert redeemed == -100
    stored = session.scalar(select(Account.balance).where(Account.customer_id == customer_id))
    assert stored == session.scalar(select(func.sum(LedgerEntry.points))
                                     .where(LedgerEntry.customer_id == customer_id)) >= 0


def test_the_last_use_of_a_promo_code_goes_to_one_desk(app, session):
    template = CouponTemplate(name="Promo", kind="percent", value=1_000, categories="accessory", min_bill_minor=0,
                              validity_days=30, active=True)
    session.add(template)
    session.flush()
    session.add(Coupon(code="LASTONE", kind="promo", template_id=template.id, usage_limit=1, used_count=0,
                       valid_from=NOW - timedelta(days=1), valid_until=NOW + timedelta(days=1)))
    case = new_item(session, price_minor=10_000, on_hand=10)
    staff = [staff_member(session, Role.FRONT_DESK).id for _ in range(3)]
    sales = []
    for _ in staff:
        sale = checkout.open_sale(session, actor=None)
        checkout.add_item(session, sale, case, 1)
        sales.append(sale.id)
    session.commit()
    session.close()

    outcomes = run_at_once(app, *[paying(sale_id, desk, 9_000, LoyaltyRequest(coupon_code="LASTONE"))
                                  for sale_id, desk in zip(sales, staff, strict=True)])

    assert len([o for o in outcomes if isinstance(o, str)]) == 1
    assert session.scalar(select(Coupon.used_count).where(Coupon.code == "LASTONE")) == 1
    assert session.scalar(select(func.count()).select_from(CouponUse)) == 1
