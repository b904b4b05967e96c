"""Codes follow one rule (crm.loyalty.codes): every promo code the manager can create can be redeemed at the
desk, typed as printed, in lower case or with its dashes and spaces left out; what cannot be redeemed cannot be
created; and the codes the shop draws itself (personal coupons, referral codes) follow the same rule."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from crm.loyalty import coupon_admin, coupons
from crm.loyalty.accounts import new_referral_code
from crm.loyalty.codes import is_valid_code, normalize_code
from crm.loyalty.ledger import LoyaltyError
from crm.loyalty.models import Coupon, CouponTemplate

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)

# What a manager might type: letters, digits, dashes and spaces, and a few characters that look like them.
TYPED = st.one_of(
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 -]{0,22}[A-Za-z0-9]?", fullmatch=True),
    st.text(alphabet=st.sampled_from("AZaz09-_ .\t/ßﬁé²١"), max_size=24),
)


@pytest.fixture
def template(session):
    row = CouponTemplate(name="Codes", kind="percent", value=1000, categories="accessory", min_bill_minor=0,
                         validity_days=30, active=True)
    session.add(row)
    session.flush()
    return row


def create(session, template, code: str) -> Coupon:
    return coupon_admin.create_promo_code(session, template, code, 5, NOW - timedelta(days=1),
                                          NOW + timedelta(days=30), actor=None, now=NOW)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(typed=TYPED)
@example(typed="spring-10")
@example(typed="SUMMER-SALE-2026")  # 14 characters without its dashes
@example(typed="BLACKFRIDAY2026X")  # 16
@example(typed="BLACKFRIDAY-2026-XY")  # 17 without its dashes
@example(typed="ﬁx10")
def test_every_promo_code_that_can_be_created_can_be_redeemed(session, template, typed):
    savepoint = session.begin_nested()
    try:
        try:
            created = create(session, template, typed)
        except LoyaltyError as refused:
            assert refused.field == "code"
            assert not is_valid_code(normalize_code(typed))
            with pytest.raises(LoyaltyError):
                coupons.find_usable(session, typed, customer_id=None, now=NOW)
            return
        assert session.scalar(select(Coupon.code).where(Coupon.id == created.id)) == created.code
        compact = typed.replace("-", "").replace(" ", "")
        for at_the_desk in (typed, typed.lower(), typed.upper(), f"  {typed} ", compact, created.code):
            assert coupons.find_usable(session, at_the_desk, customer_id=None, now=NOW).id == created.id
    finally:
        savepoint.rollback()


@pytest.mark.parametrize("typed", ["AB", "A-B", "X" * 17, "BLACKFRIDAY-2026-XY", "SALE_10", "SALE.10", "ŽIVO10",
                                   "ﬁx10", "10²", "", "   "])
def test_a_code_that_could_not_be_redeemed_cannot_be_created(session, template, typed):
    with pytest.raises(LoyaltyError) as refused:
        create(session, template, typed)
    assert refused.value.field == "code"
    assert session.scalar(select(Coupon.id)) is None


def test_spellings_of_one_code_are_the_same_code(session, template):
    create(session, template, "spring-10")
    with pytest.raises(LoyaltyError, match="already in use"):
        create(session, template, "SPRING 10")


def test_the_codes_the_shop_draws_follow_the_rule():
    for _ in range(200):
        assert is_valid_code(coupons.new_code("P")) and is_valid_code(new_referral_code())
