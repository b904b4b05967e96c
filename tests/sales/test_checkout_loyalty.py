"""Loyalty at checkout and refund, through the checkout service: what the bill takes off, what is
earned and spent, and that a refund undoes exactly the points of what is refunded."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from crm.auth.models import Role
from crm.errors import RuleError
from crm.loyalty import accounts, ledger
from crm.loyalty.models import Account, Activity, Coupon, CouponTemplate, LedgerEntry, Tier
from crm.loyalty.program import update_program
from crm.sales import checkout
from crm.sales.loyalty import LoyaltyRequest
from crm.sales.models import SaleLine
from crm.sales.refunds import RefundRequest
from tests import factories
from tests.factories.sales import bill_total, give_back, new_item, pay, ready_order, staff_member

NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def desk(session):
    return staff_member(session, Role.FRONT_DESK)


def member(session, balance: int = 0, *, tier: str | None = None, **customer_fields):
    """A member with ``balance`` points on top of the welcome bonus switched off."""
    update_program(session, {"welcome_bonus": 0}, actor=None)
    customer = factories.customer(**customer_fields)
    account = accounts.enrol(session, customer, now=NOW - timedelta(days=10))
    if balance:
        ledger.credit(session, account, "adjust", balance, key=f"seed:{customer.id}", now=NOW - timedelta(days=10),
                      expiry_months=12)
    if tier:
        account.tier_id = session.scalar(select(Tier.id).where(Tier.name == tier))
    session.flush()
    return customer


def ledger_sum(session, customer_id: int) -> int:
    return session.scalar(select(func.coalesce(func.sum(LedgerEntry.points), 0))
                          .where(LedgerEntry.customer_id == customer_id))


def balance(session, customer_id: int) -> int:
    stored = session.scalar(select(Account.balance).where(Account.customer_id == customer_id))
    assert stored == ledger_sum(session, customer_id) >= 0
    return stored


def repair_sale(session, desk, customer, labour_minor: int = 120_000):
    order = ready_order(session, lines=(("labour", 1, labour_minor),), customer=customer)
    return checkout.sale_for_repair(session, order.id, actor=desk)


def cart(session, desk, customer, *items):
    sale = checkout.open_sale(session, actor=desk, customer=customer)
    for item, quantity in items:
        checkout.add_item(session, sale, item, quantity)
    return sale


def test_a_paid_repair_earns_the_labour_rate_on_the_money_paid(session, desk):
    customer = member(session)
    sale = pay(session, repair_sale(session, desk, customer).id, actor=desk, loyalty=LoyaltyRequest(), now=NOW)
    assert sale.points_earned == 60  # 5% of 1200.00 at 1 point per 1.00
    assert sale.points_balance_after == 60 == balance(session, customer.id)
    earn = session.scalar(select(LedgerEntry).where(LedgerEntry.idempotency_key == f"sale:{sale.id}:earn"))
    assert earn.kind == "earn" and earn.reference == f"sale:{sale.id}" and earn.remaining == 60
    assert earn.expires_at == datetime(2027, 6, 1, 10, 0, tzinfo=UTC)
    assert session.scalar(select(Activity.repairs).where(Activity.reference == f"sale:{sale.id}")) == 1


def test_points_are_rounded_down_to_a_whole_point_per_bill(session, desk):
    customer = member(session)
    case = new_item(session, price_minor=3_333, on_hand=3)  # accessory 3%: 3 x 33.33 x 3% = 2.9997
    sale = pay(session, cart(session, desk, customer, (case, 3)).id, actor=desk, now=NOW)
    assert sale.points_earned == 2


def test_a_customer_with_marketing_consent_joins_at_their_first_checkout(session, desk):
    customer = factories.customer(marketing_consent=True)
    sale = pay(session, repair_sale(session, desk, customer).id, actor=desk, now=NOW)
    assert sale.points_earned == 60
    assert balance(session, customer.id) == 50 + 60  # welcome bonus and the earned points


def test_without_consent_or_enrolment_nothing_is_earned_but_the_activity_counts(session, desk):
    customer = factories.customer(marketing_consent=False)
    sale = pay(session, repair_sale(session, desk, customer).id, actor=desk, now=NOW)
    assert sale.points_earned == 0 and sale.points_balance_after is None
    assert session.get(Account, customer.id) is None
    assert session.scalar(select(Activity.spend_minor).where(Activity.customer_id == customer.id)) == 120_000


def test_points_pay_part_of_the_bill_and_earn_nothing_on_that_part(session, desk):
    customer = member(session, 100)
    sale = pay(session, repair_sale(session, desk, customer).id, actor=desk, loyalty=LoyaltyRequest(points=100),
               now=NOW)
    assert sale.total_minor == 110_000 and sale.points_redeemed == 100
    assert sale.points_earned == 55  # 5% of the 1100.00 paid in money
    assert balance(session, customer.id) == 55


def test_points_are_capped_at_a_share_of_the_bill(session, desk):
    customer = member(session, 1_000)
    sale = repair_sale(session, desk, customer, labour_minor=100_000)
    session.commit()
    with pytest.raises(RuleError) as refused:
        pay(session, sale.id, actor=desk, loyalty=LoyaltyRequest(points=301), now=NOW)
    assert refused.value.field == "points" and "300" in str(refused.value.message)
    session.rollback()
    paid = pay(session, sale.id, actor=desk, loyalty=LoyaltyRequest(use_max=True), now=NOW)
    assert paid.points_redeemed == 300 and paid.total_minor == 70_000


def test_no_points_below_the_minimum_balance(session, desk):
    customer = member(session, 100)
    update_program(session, {"min_balance_to_redeem": 200}, actor=None)
    with pytest.raises(RuleError):
        pay(session, repair_sale(session, desk, customer).id, actor=desk, loyalty=LoyaltyRequest(points=10), now=NOW)


def test_points_are_spent_only_on_the_categories_the_program_allows(session, desk):
    customer = member(session, 1_000)
    update_program(session, {"redeem_categories": "accessory"}, actor=None)
    case = new_item(session, price_minor=10_000, on_hand=2)
    sale = repair_sale(session, desk, customer)
    checkout.add_item(session, sale, case, 1)
    paid = pay(session, sale.id, actor=desk, loyalty=LoyaltyRequest(use_max=True), now=NOW)
    assert paid.points_redeemed == 100  # only the 100.00 case, though 30% of the bill would allow 390
    lines = {line.kind: line for line in session.scalars(select(SaleLine).where(SaleLine.sale_id == paid.id))}
    assert lines["labour"].adjustment_minor == 0 and lines["item"].total_minor == 0


def test_the_tier_discount_applies_to_accessories_by_itself(session, desk):
    customer = member(session, tier="Silver")  # 5% on accessories
    case = new_item(session, price_minor=40_000, on_hand=2)
    sale = repair_sale(session, desk, customer)
    checkout.add_item(session, sale, case, 1)
    paid = pay(session, sale.id, actor=desk, now=NOW)
    assert paid.total_minor == 120_000 + 38_000
    assert paid.points_earned == (120_000 * 500 * 125 + 38_000 * 300 * 125) // (10_000 * 100 * 100)


def coupon(session, *, kind="percent", value=1_500, categories="accessory", min_bill=0, customer=None,
           code="SPRING", limit=1):
    template = CouponTemplate(name=f"T-{code}", kind=kind, value=value, categories=categories,
                              min_bill_minor=min_bill, validity_days=30, active=True)
    session.add(template)
    session.flush()
    row = Coupon(code=code, kind="personal" if customer else "promo", template_id=template.id,
                 customer_id=customer.id if customer else None, usage_limit=limit, used_count=0,
                 valid_from=NOW - timedelta(days=1), valid_until=NOW + timedelta(days=30))
    session.add(row)
    session.flush()
    return row


def test_a_better_percentage_coupon_replaces_the_tier_discount_never_adds_to_it(session, desk):
    customer = member(session, tier="Silver")
    case = new_item(session, price_minor=40_000, on_hand=2)
    coupon(session, value=1_500)
    paid = pay(session, cart(session, desk, customer, (case, 1)).id, actor=desk,
               loyalty=LoyaltyRequest(coupon_code="spring"), now=NOW)
    assert paid.total_minor == 34_000 and paid.coupon_code == "SPRING"


def test_a_coupon_worse_than_the_tier_discount_is_refused_with_a_reason(session, desk):
    customer = member(session, tier="Gold")  # 10% on accessories
    case = new_item(session, price_minor=40_000, on_hand=2)
    coupon(session, value=500)
    with pytest.raises(RuleError) as refused:
        pay(session, cart(session, desk, customer, (case, 1)).id, actor=desk,
            loyalty=LoyaltyRequest(coupon_code="SPRING"), now=NOW)
    assert refused.value.field == "coupon"


def test_a_fixed_coupon_comes_off_after_the_tier_discount(session, desk):
    customer = member(session, tier="Silver")
    case = new_item(session, price_minor=40_000, on_hand=2)
    coupon(session, kind="fixed", value=5_000)
    paid = pay(session, cart(session, desk, customer, (case, 1)).id, actor=desk,
               loyalty=LoyaltyRequest(coupon_code="SPRING"), now=NOW)
    assert paid.total_minor == 40_000 - 2_000 - 5_000


def test_a_coupon_needs_its_minimum_bill(session, desk):
    case = new_item(session, price_minor=40_000, on_hand=2)
    coupon(session, min_bill=50_000)
    with pytest.raises(RuleError) as refused:
        pay(session, cart(session, desk, None, (case, 1)).id, actor=desk,
            loyalty=LoyaltyRequest(coupon_code="SPRING"), now=NOW)
    assert refused.value.field == "coupon"


def test_a_promo_code_is_used_no_more_often_than_its_limit(session, desk):
    case = new_item(session, price_minor=40_000, on_hand=5)
    coupon(session, limit=1)
    pay(session, cart(session, desk, None, (case, 1)).id, actor=desk, loyalty=LoyaltyRequest(coupon_code="SPRING"),
        now=NOW)
    with pytest.raises(RuleError) as refused:
        pay(session, cart(session, desk, None, (case, 1)).id, actor=desk, expected_total=34_000,
            loyalty=LoyaltyRequest(coupon_code="SPRING"), now=NOW)
    assert refused.value.field == "coupon"


def test_a_personal_coupon_is_only_for_its_customer(session, desk):
    owner = member(session)
    other = member(session)
    case = new_item(session, price_minor=40_000, on_hand=5)
    coupon(session, customer=owner, code="PERSONAL1")
    with pytest.raises(RuleError):
        pay(session, cart(session, desk, other, (case, 1)).id, actor=desk,
            loyalty=LoyaltyRequest(coupon_code="PERSONAL1"), expected_total=34_000, now=NOW)


def test_every_paid_repair_issues_the_configured_personal_coupon_once(session, desk):
    template = CouponTemplate(name="After repair", kind="percent", value=1_500, categories="accessory",
                              min_bill_minor=0, validity_days=30, active=True)
    session.add(template)
    session.flush()
    update_program(session, {"repair_coupon_template_id": template.id}, actor=None)
    customer = member(session)
    key = "same-form"
    sale = repair_sale(session, desk, customer)
    pay(session, sale.id, actor=desk, key=key, now=NOW)
    pay(session, sale.id, actor=desk, key=key, expected_total=120_000, now=NOW)  # the form posted again
    issued = session.scalars(select(Coupon).where(Coupon.customer_id == customer.id)).all()
    assert len(issued) == 1 and issued[0].valid_until == NOW + timedelta(days=30)


def test_the_same_checkout_posted_twice_posts_its_points_once(session, desk):
    customer = member(session, 100)
    sale = repair_sale(session, desk, customer)
    first = pay(session, sale.id, actor=desk, key="k1", loyalty=LoyaltyRequest(points=50), now=NOW)
    again = pay(session, sale.id, actor=desk, key="k1", expected_total=first.total_minor,
                loyalty=LoyaltyRequest(points=50), now=NOW)
    assert again.id == first.id
    assert session.scalar(select(func.count()).select_from(LedgerEntry)
                          .where(LedgerEntry.reference == f"sale:{sale.id}")) == 2
    assert balance(session, customer.id) == 100 - 50 + first.points_earned


def test_a_full_refund_gives_back_spent_points_and_takes_back_earned_ones(session, desk):
    customer = member(session, 100)
    case = new_item(session, price_minor=50_000, on_hand=2)
    sale = pay(session, cart(session, desk, customer, (case, 2)).id, actor=desk,
               loyalty=LoyaltyRequest(points=100), now=NOW)
    assert sale.points_earned == 27  # 3% of 900.00
    line = session.scalar(select(SaleLine).where(SaleLine.sale_id == sale.id))
    refund = give_back(session, sale.id, [RefundRequest(line.id, 2)], actor=desk, now=NOW + timedelta(days=1))
    assert (refund.points_restored, refund.points_reversed, refund.points_kept_minor) == (100, 27, 0)
    assert refund.amount_minor == 90_000
    assert balance(session, customer.id) == 100


def test_a_partial_refund_undoes_points_in_proportion_and_the_last_unit_settles_the_rest(session, desk):
    customer = member(session, 100)
    case = new_item(session, price_minor=50_000, on_hand=3)
    sale = pay(session, cart(session, desk, customer, (case, 3)).id, actor=desk,
               loyalty=LoyaltyRequest(points=100), now=NOW)
    line = session.scalar(select(SaleLine).where(SaleLine.sale_id == sale.id))
    earned = sale.points_earned  # 3% of 1400.00 = 42
    first = give_back(session, sale.id, [RefundRequest(line.id, 1)], actor=desk, now=NOW)
    assert (first.points_restored, first.points_reversed) == (100 // 3, earned // 3)
    second = give_back(session, sale.id, [RefundRequest(line.id, 2)], actor=desk, now=NOW)
    assert first.points_restored + second.points_restored == 100
    assert first.points_reversed + second.points_reversed == earned
    assert balance(session, customer.id) == 100


def test_a_refund_of_points_already_spent_keeps_their_value_from_the_money(session, desk):
    customer = member(session)
    case = new_item(session, price_minor=100_000, on_hand=3)
    first = pay(session, cart(session, desk, customer, (case, 1)).id, actor=desk, now=NOW)
    assert first.points_earned == 30
    second = cart(session, desk, customer, (case, 1))
    pay(session, second.id, actor=desk, loyalty=LoyaltyRequest(points=30), now=NOW)  # spends them
    balance_before = balance(session, customer.id)  # earned on the second sale
    line = session.scalar(select(SaleLine).where(SaleLine.sale_id == first.id))
    refund = give_back(session, first.id, [RefundRequest(line.id, 1)], actor=desk, now=NOW)
    assert refund.points_reversed == balance_before
    assert refund.points_shortfall == 30 - balance_before
    assert refund.points_kept_minor == refund.points_shortfall * 100
    assert refund.amount_minor == 100_000 - refund.points_kept_minor
    assert balance(session, customer.id) == 0


def test_the_payment_that_qualifies_upgrades_the_tier_at_once(session, desk):
    customer = member(session)
    for _ in range(3):  # Silver: 3 paid repairs in the window
        pay(session, repair_sale(session, desk, customer, labour_minor=10_000).id, actor=desk, now=NOW)
    account = session.get(Account, customer.id)
    assert session.get(Tier, account.tier_id).name == "Silver"


def test_both_get_the_referral_bonus_when_the_newcomers_first_order_is_paid(session, desk):
    update_program(session, {"welcome_bonus": 0}, actor=None)
    referrer = member(session)
    code = session.get(Account, referrer.id).referral_code
    newcomer = factories.customer()
    accounts.set_referrer(session, newcomer, code, region="UA", now=NOW)
    pay(session, repair_sale(session, desk, newcomer, labour_minor=10_000).id, actor=desk, now=NOW)
    pay(session, repair_sale(session, desk, newcomer, labour_minor=10_000).id, actor=desk, now=NOW)
    assert balance(session, referrer.id) == 100
    assert balance(session, newcomer.id) == 50 + 5 + 5


def test_a_switched_off_program_earns_nothing_and_refuses_points(session, desk):
    customer = member(session, 100)
    update_program(session, {"enabled": False}, actor=None)
    sale = repair_sale(session, desk, customer)
    session.commit()
    with pytest.raises(RuleError):
        pay(session, sale.id, actor=desk, loyalty=LoyaltyRequest(points=10), expected_total=110_000, now=NOW)
    session.rollback()
    paid = pay(session, sale.id, actor=desk, now=NOW)
    assert paid.points_earned == 0 and balance(session, customer.id) == 100


def test_the_cart_total_shown_matches_the_checkout(session, desk):
    customer = member(session, 500, tier="Gold")
    case = new_item(session, price_minor=33_333, on_hand=3)
    sale = repair_sale(session, desk, customer)
    checkout.add_item(session, sale, case, 3)
    shown = bill_total(session, sale, loyalty=LoyaltyRequest(use_max=True))
    paid = pay(session, sale.id, actor=desk, loyalty=LoyaltyRequest(use_max=True), now=NOW)
    assert paid.total_minor == shown


@pytest.mark.parametrize(("typed", "points"), [("", 0), ("0", 0), ("120", 120), (" 7 ", 7), ("²", -1), ("٣", -1),
                                               ("-5", -1), ("1e3", -1), ("999999999", -1)])
def test_the_points_the_payment_form_carries_are_ascii_digits_or_refused(typed, points):
    from crm.sales.loyalty import LoyaltyRequest

    request = LoyaltyRequest.at_payment(typed, " spring " + "x" * 40)
    assert request.points == points and len(request.coupon_code) == 32
