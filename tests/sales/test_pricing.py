"""The written rounding rules of crm.sales.pricing, case by case and as properties of random bills."""

from collections.abc import Sequence
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm.sales.pricing import (
    BASIS_POINTS,
    Adjustment,
    LineInput,
    PricingError,
    Tender,
    allocate,
    line_discount,
    percent_of,
    price,
    refund_amount,
    settle,
)

CATEGORIES = ("accessory", "spare_part", "repair_labour", "repair_part")


# --- rule 1: percentages round half up ------------------------------------------------------------

@pytest.mark.parametrize(("amount", "basis_points", "expected"), [
    (333, 1500, 50),        # 15% of 3.33 = 0.4995 -> 0.50
    (4, 1250, 1),           # 12.5% of 0.04 = 0.005 -> 0.01: exactly half rounds up
    (12, 1250, 2),          # 1.5 -> 2
    (5, 1000, 1),           # 0.5 -> 1
    (49, 100, 0),           # 0.49 -> 0
    (50, 100, 1),           # 0.50 -> 1
    (149, 100, 1),          # 1.49 -> 1
    (12_345, 0, 0),
    (12_345, BASIS_POINTS, 12_345),
    (0, 5000, 0),
])
def test_a_percentage_rounds_half_up_to_the_minor_unit(amount, basis_points, expected):
    assert percent_of(amount, basis_points) == expected


@given(amount=st.integers(0, 10**9), basis_points=st.integers(0, BASIS_POINTS))
def test_a_percentage_is_the_exact_value_rounded_half_up(amount, basis_points):
    exact = Fraction(amount * basis_points, BASIS_POINTS)
    result = percent_of(amount, basis_points)
    assert result - Fraction(1, 2) <= exact < result + Fraction(1, 2)
    assert 0 <= result <= amount


@pytest.mark.parametrize(("amount", "basis_points"), [(-1, 100), (100, -1), (100, BASIS_POINTS + 1)])
def test_a_percentage_outside_0_to_100_or_of_a_negative_amount_is_an_error(amount, basis_points):
    with pytest.raises(ValueError):
        percent_of(amount, basis_points)


# --- rule 2: a line discount never exceeds the line ----------------------------------------------

def test_a_line_discount_is_an_amount_or_a_percentage_of_the_line():
    assert line_discount(3_000, amount_minor=500) == 500
    assert line_discount(3_000, basis_points=1000) == 300
    assert line_discount(333, basis_points=1500) == 50
    assert line_discount(3_000) == 0


@pytest.mark.parametrize("kwargs", [dict(amount_minor=3_001), dict(amount_minor=-1), dict(basis_points=10_001),
                                    dict(basis_points=-1)])
def test_a_line_discount_larger_than_the_line_or_negative_is_refused(kwargs):
    with pytest.raises(PricingError) as refused:
        line_discount(3_000, **kwargs)
    assert refused.value.field == "discount"


# --- rule 3: bill-level reductions are spread by largest remainder ------------------------------------

@pytest.mark.parametrize(("amount", "weights", "expected"), [
    (100, [300, 300, 300], [34, 33, 33]),  # the left-over unit goes to the earliest of equal remainders
    (5, [0, 5], [0, 5]),                  # a line that costs nothing gets nothing
    (7, [3_000, 1_000], [5, 2]),          # 5.25 and 1.75: the larger remainder takes the spare unit
    (0, [5, 5], [0, 0]),
    (10, [10], [10]),
    (0, [], []),
])
def test_allocation_gives_the_spare_units_to_the_largest_remainders(amount, weights, expected):
    assert allocate(amount, weights) == expected


@pytest.mark.parametrize(("amount", "weights"), [(11, [5, 5]), (-1, [5]), (1, [5, -1]), (1, [])])
def test_allocating_more_than_the_weights_hold_or_negatives_is_an_error(amount, weights):
    with pytest.raises(ValueError):
        allocate(amount, weights)


@given(data=st.data(), weights=st.lists(st.integers(0, 10**6), min_size=1, max_size=12))
def test_allocation_sums_exactly_and_respects_the_weights(data, weights):
    amount = data.draw(st.integers(0, sum(weights)))
    shares = allocate(amount, weights)
    assert sum(shares) == amount
    total = sum(weights)
    for share, weight in zip(shares, weights, strict=True):
        assert 0 <= share <= weight
        if total:
            assert abs(share - Fraction(amount * weight, total)) < 1  # never a whole unit off its exact share
    for i, j in ((i, j) for i in range(len(weights)) for j in range(len(weights))):
        if weights[i] > weights[j]:
            assert shares[i] >= shares[j]  # a line that costs more never gets a smaller share


# --- prices of whole bills -------------------------------------------------------------------------

@st.composite
def bill_lines(draw) -> list[LineInput]:
    lines = []
    for _ in range(draw(st.integers(1, 8))):
        quantity = draw(st.integers(1, 20))
        unit_price = draw(st.integers(0, 500_000))
        gross = quantity * unit_price
        if draw(st.booleans()):
            discount = line_discount(gross, basis_points=draw(st.integers(0, BASIS_POINTS)))
        else:
            discount = line_discount(gross, amount_minor=draw(st.integers(0, gross)))
        lines.append(LineInput(quantity, unit_price, discount, draw(st.sampled_from(CATEGORIES))))
    return lines


@given(data=st.data(), lines=bill_lines())
def test_a_bill_balances_line_by_line_with_any_discounts_and_adjustments(data, lines):
    """Sum of line totals == subtotal - discounts; no line is negative; every adjustment is spread
    in full and only over the lines of its categories."""
    adjustments: list[Adjustment] = []
    for n in range(data.draw(st.integers(0, 4))):
        categories = data.draw(st.none() | st.frozensets(st.sampled_from(CATEGORIES), min_size=1))
        so_far = price(lines, adjustments)
        room = sum(priced.total_minor for priced, line in zip(so_far.lines, lines, strict=True)
                   if categories is None or line.category_code in categories)
        amount = data.draw(st.integers(0, room))
        adjustments.append(Adjustment(kind="coupon", label=f"Coupon {n}", amount_minor=amount, categories=categories))

    quote = price(lines, adjustments)

    assert quote.subtotal_minor == sum(line.quantity * line.unit_price_minor for line in lines)
    assert quote.total_minor == sum(line.total_minor for line in quote.lines)
    assert quote.total_minor == quote.subtotal_minor - quote.discount_minor
    assert all(line.total_minor >= 0 for line in quote.lines)
    assert [line.discount_minor for line in quote.lines] == [line.discount_minor for line in lines]
    assert sum(line.adjustment_minor for line in quote.lines) == sum(a.amount_minor for a in adjustments)
    for priced, line in zip(quote.lines, lines, strict=True):
        if not any(a.categories is None or line.category_code in a.categories for a in adjustments):
            assert priced.adjustment_minor == 0


def test_an_adjustment_limited_to_accessories_leaves_repair_lines_alone():
    lines = [LineInput(1, 100_000, 0, "repair_labour"), LineInput(2, 30_000, 0, "accessory"),
             LineInput(1, 20_000, 0, "accessory")]
    quote = price(lines, [Adjustment("tier", "Gold discount", 8_000, frozenset({"accessory"}))])
    assert [line.adjustment_minor for line in quote.lines] == [0, 6_000, 2_000]
    assert quote.total_minor == 180_000 - 8_000


def test_an_adjustment_larger_than_its_lines_is_refused():
    lines = [LineInput(1, 100_000, 0, "repair_labour"), LineInput(1, 5_000, 1_000, "accessory")]
    with pytest.raises(PricingError, match="Coupon"):
        price(lines, [Adjustment("coupon", "Coupon", 4_001, frozenset({"accessory"}))])
    assert price(lines, [Adjustment("coupon", "Coupon", 4_000, frozenset({"accessory"}))]).lines[1].total_minor == 0


@pytest.mark.parametrize("line", [LineInput(0, 100), LineInput(1, -1), LineInput(1, 100, 101), LineInput(1, 100, -1)])
def test_a_line_without_units_with_a_negative_price_or_too_big_a_discount_is_refused(line):
    with pytest.raises(PricingError):
        price([line])


# --- rule 5: payments and change ---------------------------------------------------------------------

def test_cash_change_is_given_only_from_cash():
    settlement = settle(7_450, [Tender("card", 5_000), Tender("cash", 3_000)])
    assert settlement.change_minor == 550
    assert settlement.payments == (Tender("card", 5_000), Tender("cash", 2_450))
    assert settlement.tendered == (Tender("card", 5_000), Tender("cash", 3_000))


@pytest.mark.parametrize("tenders", [
    [Tender("card", 7_451)],
    [Tender("bank_transfer", 8_000), Tender("cash", 100)],
    [Tender("card", 4_000), Tender("bank_transfer", 4_000)],
])
def test_card_and_transfer_cannot_exceed_what_is_due(tenders):
    with pytest.raises(PricingError, match="cannot be more than the amount due") as refused:
        settle(7_450, tenders)
    assert refused.value.field == "payments"


@pytest.mark.parametrize(("tenders", "message"), [
    ([Tender("cash", 7_449)], "do not cover"),
    ([], "do not cover"),
    ([Tender("card", 7_450), Tender("cash", 500)], "Nothing is left to pay in cash"),
    ([Tender("cash", -1), Tender("cash", 7_451)], "cannot be negative"),
])
def test_payments_must_cover_the_bill_without_cash_that_pays_nothing(tenders, message):
    with pytest.raises(PricingError, match=message):
        settle(7_450, tenders)


def test_a_zero_bill_needs_no_payment():
    assert settle(0, []).payments == ()
    assert settle(0, [Tender("card", 0)]).change_minor == 0


TENDERS = st.lists(st.builds(Tender, st.sampled_from(["cash", "card", "bank_transfer"]), st.integers(0, 200_000)),
                   max_size=5)


@given(total=st.integers(0, 300_000), tenders=TENDERS)
def test_payments_minus_change_is_the_bill_total_and_change_comes_only_from_cash(total, tenders):
    handed: dict[str, int] = {}
    for tender in tenders:
        handed[tender.method] = handed.get(tender.method, 0) + tender.amount_minor
    non_cash = sum(amount for method, amount in handed.items() if method != "cash")
    cash = handed.get("cash", 0)
    acceptable = non_cash <= total <= non_cash + cash and not (cash and non_cash == total and cash > 0)
    try:
        settlement = settle(total, tenders)
    except PricingError:
        assert not acceptable
        return
    assert acceptable
    assert sum(t.amount_minor for t in settlement.payments) == total
    assert sum(t.amount_minor for t in settlement.tendered) - settlement.change_minor == total
    assert 0 <= settlement.change_minor <= cash
    assert all(t.amount_minor > 0 for t in settlement.payments)
    for paid, given_ in zip(settlement.payments, settlement.tendered, strict=True):
        assert paid.method == given_.method
        if paid.method != "cash":
            assert paid.amount_minor == given_.amount_minor  # no change ever comes off a card


# --- rule 4: refunds --------------------------------------------------------------------------------

def refund_in_steps(line_total: int, quantity: int, steps: Sequence[int]) -> list[int]:
    refunded_quantity = refunded_minor = 0
    amounts = []
    for step in steps:
        amount = refund_amount(line_total, quantity, refunded_quantity, refunded_minor, step)
        refunded_quantity += step
        refunded_minor += amount
        amounts.append(amount)
    return amounts


def test_units_refunded_one_by_one_pay_back_exactly_the_line_total():
    assert refund_in_steps(1_000, 3, [1, 1, 1]) == [333, 333, 334]
    assert refund_in_steps(1_000, 3, [2, 1]) == [666, 334]
    assert refund_in_steps(1_000, 3, [3]) == [1_000]


def test_more_units_than_are_left_cannot_be_refunded():
    with pytest.raises(PricingError, match="More units"):
        refund_amount(1_000, 3, 2, 666, 2)
    with pytest.raises(PricingError):
        refund_amount(1_000, 3, 0, 0, 0)


@st.composite
def partitions(draw, quantity: int) -> list[int]:
    steps, left = [], quantity
    while left:
        step = draw(st.integers(1, left))
        steps.append(step)
        left -= step
    return steps


@given(data=st.data(), line_total=st.integers(0, 10**7), quantity=st.integers(1, 50))
def test_any_grouping_of_partial_refunds_pays_back_exactly_the_line_total(data, line_total, quantity):
    first, second = data.draw(partitions(quantity)), data.draw(partitions(quantity))
    amounts = refund_in_steps(line_total, quantity, first)
    assert sum(amounts) == line_total
    assert all(amount >= 0 for amount in amounts)
    # After any K units, whatever the grouping, the same amount has been paid back and never more than the line.
    paid_after = {}
    for steps in (first, second):
        k = paid = 0
        for step, amount in zip(steps, refund_in_steps(line_total, quantity, steps), strict=True):
            k, paid = k + step, paid + amount
            assert paid <= line_total
            assert paid_after.setdefault(k, paid) == paid


@settings(max_examples=50)
@given(data=st.data(), line_total=st.integers(0, 10**6), quantity=st.integers(1, 20))
def test_random_refund_attempts_never_pay_back_more_than_the_line(data, line_total, quantity):
    refunded_quantity = refunded_minor = 0
    for step in data.draw(st.lists(st.integers(-2, quantity + 2), max_size=10)):
        try:
            amount = refund_amount(line_total, quantity, refunded_quantity, refunded_minor, step)
        except PricingError:
            assert step < 1 or refunded_quantity + step > quantity
            continue
        refunded_quantity += step
        refunded_minor += amount
        assert 0 <= refunded_minor <= line_total
    assert (refunded_minor == line_total) == (refunded_quantity == quantity) or line_total == 0
