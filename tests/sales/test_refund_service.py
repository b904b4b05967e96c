"""Refunds, called as services: per line, full or partial, with a reason and a method; tracked items go back
to stock when asked; a unit is paid back once, even when two desks refund it at the same moment."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from crm.auth.models import Role, StaffUser
from crm.catalogue.models import StockMovement
from crm.sales import checkout, refunds
from crm.sales.models import Refund, RefundLine, SaleLine
from crm.sales.pricing import Adjustment, Tender, refund_amount
from crm.sales.refunds import RefundError, RefundRequest
from tests.factories.sales import (
    assert_books_balance,
    count,
    give_back,
    movements_of,
    new_item,
    new_key,
    paid_sale,
    pay,
    ready_order,
    run_at_once,
    staff_member,
)


@pytest.fixture
def desk(session):
    return staff_member(session, Role.FRONT_DESK)


def lines_of(session, sale) -> list[SaleLine]:
    return list(session.scalars(select(SaleLine).where(SaleLine.sale_id == sale.id).order_by(SaleLine.id)))


def test_a_full_refund_pays_back_every_line_and_returns_stock_to_the_shelf(session, desk):
    case = new_item(session, price_minor=35_000, on_hand=5)
    fitting = new_item(session, price_minor=20_000, tracked=False, category="service")
    sale = checkout.open_sale(session, actor=desk)
    checkout.add_item(session, sale, case, 2, discount_percent=1_000)
    checkout.add_item(session, sale, fitting, 1)
    pay(session, sale.id, actor=desk)
    case_line, fitting_line = lines_of(session, sale)

    done = give_back(session, sale.id, [RefundRequest(case_line.id, 2), RefundRequest(fitting_line.id, 1)], actor=desk)

    assert done.amount_minor == 63_000 + 20_000
    assert [(rl.quantity, rl.amount_minor, rl.restocked) for rl in done.lines] == [(2, 63_000, True),
                                                                                    (1, 20_000, False)]
    assert (case_line.refunded_quantity, case_line.refunded_minor) == (2, 63_000)
    assert (fitting_line.refunded_quantity, fitting_line.refunded_minor) == (1, 20_000)
    assert movements_of(session, case.id, "returned") == [2]
    assert movements_of(session, fitting.id, "returned") == []
    assert_books_balance(session, case.id, 5)


def test_a_refund_references_the_sale_and_the_lines_it_pays_back(session, desk):
    case = new_item(session, price_minor=35_000, on_hand=5)
    sale = paid_sale(session, desk, [(case, 3)])
    (line,) = lines_of(session, sale)
    first = give_back(session, sale.id, [RefundRequest(line.id, 1)], actor=desk, method="card",
                      reason="  Wrong colour  ")
    second = give_back(session, sale.id, [RefundRequest(line.id, 1, restock=False)], actor=desk)

    assert (first.number, first.sale_id, first.method, first.reason, first.created_by_id) == (
        "RF-00001", sale.id, "card", "Wrong colour", desk.id)
    assert second.number == "RF-00002"
    listed = refunds.refunds_of_sale(session, sale.id)
    assert [r.id for r in listed] == [first.id, second.id]
    assert [(rl.sale_line_id, rl.quantity) for r in listed for rl in r.lines] == [(line.id, 1), (line.id, 1)]
    returned = session.scalars(select(StockMovement).where(StockMovement.kind == "returned")).all()
    assert [(m.quantity, m.sale_id, m.refund_id, m.reason) for m in returned] == [(1, sale.id, first.id, "RF-00001")]
    assert_books_balance(session, case.id, 3)


def test_units_refunded_one_by_one_pay_back_exactly_the_line_total(session, desk):
    sale = paid_sale(session, desk, [(new_item(session, price_minor=334, on_hand=3), 3)], discount_minor=2)
    (line,) = lines_of(session, sale)
    assert line.total_minor == 1_000
    amounts = [give_back(session, sale.id, [RefundRequest(line.id, 1)], actor=desk).amount_minor for _ in range(3)]
    assert amounts == [333, 333, 334]
    assert (line.refunded_quantity, line.refunded_minor) == (3, 1_000)


def test_a_partial_refund_pays_back_the_units_share_of_what_was_paid(session, desk):
    """Bill-level reductions are refunded as paid: the line's total after its share of a coupon."""
    sale = checkout.open_sale(session, actor=desk)
    checkout.add_item(session, sale, new_item(session, price_minor=30_000, on_hand=5), 3)
    coupon = Adjustment("coupon", "Coupon", 10_000, frozenset({"accessory"}))
    pay(session, sale.id, actor=desk, adjustments=[coupon])
    (line,) = lines_of(session, sale)
    assert (line.adjustment_minor, line.total_minor) == (10_000, 80_000)
    assert give_back(session, sale.id, [RefundRequest(line.id, 2)], actor=desk).amount_minor == 53_333
    assert give_back(session, sale.id, [RefundRequest(line.id, 1)], actor=desk).amount_minor == 26_667


def test_the_same_units_cannot_be_refunded_twice(session, desk):
    case = new_item(session, price_minor=35_000, on_hand=5, name="Case Pixel 8")
    sale = paid_sale(session, desk, [(case, 2)])
    (line,) = lines_of(session, sale)
    give_back(session, sale.id, [RefundRequest(line.id, 2)], actor=desk)
    with pytest.raises(RefundError, match=r"Case Pixel 8: only 0 left to refund\.") as refused:
        give_back(session, sale.id, [RefundRequest(line.id, 1)], actor=desk)
    assert refused.value.field == "lines"
    assert (line.refunded_quantity, line.refunded_minor) == (2, 70_000)
    assert count(session, Refund) == 1 and movements_of(session, case.id, "returned") == [2]


def test_more_units_than_are_left_are_refused_and_change_nothing(session, desk):
    case = new_item(session, price_minor=35_000, on_hand=5, name="Case Pixel 8")
    sale = paid_sale(session, desk, [(case, 3)])
    (line,) = lines_of(session, sale)
    give_back(session, sale.id, [RefundRequest(line.id, 2)], actor=desk)
    session.commit()
    with pytest.raises(RefundError, match="only 1 left"):
        give_back(session, sale.id, [RefundRequest(line.id, 2)], actor=desk)
    session.rollback()
    line = session.get(SaleLine, line.id)
    assert (line.refunded_quantity, line.refunded_minor) == (2, 70_000)
    assert count(session, Refund) == 1 and movements_of(session, case.id, "returned") == [2]
    assert_books_balance(session, case.id, 4)


@pytest.mark.parametrize(("changes", "message", "field"), [
    (dict(reason="   "), "Say why", "reason"),
    (dict(method="cheque"), "Choose how the money is paid back", "method"),
])
def test_a_refund_needs_a_reason_and_a_known_method(session, desk, changes, message, field):
    sale = paid_sale(session, desk, [(new_item(session, on_hand=2), 1)])
    (line,) = lines_of(session, sale)
    with pytest.raises(RefundError, match=message) as refused:
        give_back(session, sale.id, [RefundRequest(line.id, 1)], actor=desk, **changes)
    assert refused.value.field == field


def test_a_refund_must_name_units_of_this_sale_once_each(session, desk):
    item = new_item(session, on_hand=5)
    sale, other = paid_sale(session, desk, [(item, 2)]), paid_sale(session, desk, [(item, 1)])
    (line,), (other_line,) = lines_of(session, sale), lines_of(session, other)
    for requests, message in [([], "at least one unit"), ([RefundRequest(line.id, 0)], "at least one unit"),
                              ([RefundRequest(line.id, 1), RefundRequest(line.id, 1)], "once per refund"),
                              ([RefundRequest(line.id, -1)], "positive quantity"),
                              ([RefundRequest(other_line.id, 1)], "not on this sale")]:
        with pytest.raises(RefundError, match=message):
            give_back(session, sale.id, requests, actor=desk)
    assert count(session, Refund) == 0


def test_only_a_paid_sale_can_be_refunded(session, desk):
    sale = checkout.open_sale(session, actor=desk)
    line = checkout.add_item(session, sale, new_item(session, on_hand=2), 1)
    with pytest.raises(RefundError, match="Only a paid sale"):
        give_back(session, sale.id, [RefundRequest(line.id, 1)], actor=desk)
    with pytest.raises(RefundError, match="does not exist"):
        give_back(session, sale.id + 1_000, [RefundRequest(line.id, 1)], actor=desk)


def test_stock_comes_back_only_when_asked(session, desk):
    case = new_item(session, price_minor=35_000, on_hand=3)
    sale = paid_sale(session, desk, [(case, 2)])
    (line,) = lines_of(session, sale)
    done = give_back(session, sale.id, [RefundRequest(line.id, 1, restock=False)], actor=desk, reason="Broken")
    assert [rl.restocked for rl in done.lines] == [False]
    assert movements_of(session, case.id, "returned") == []
    assert_books_balance(session, case.id, 1)


def test_repair_lines_are_paid_back_but_never_go_to_stock(session, desk):
    order = ready_order(session, [("labour", 1, 100_000), ("part", 1, 40_000)])
    sale = checkout.sale_for_repair(session, order.id, actor=desk)
    pay(session, sale.id, actor=desk)
    labour, part = lines_of(session, sale)
    done = give_back(session, sale.id, [RefundRequest(labour.id, 1), RefundRequest(part.id, 1)], actor=desk,
                     reason="Warranty claim")
    assert done.amount_minor == 140_000
    assert [rl.restocked for rl in done.lines] == [False, False]
    assert count(session, StockMovement) == 0


def test_a_line_given_away_has_nothing_to_pay_back(session, desk):
    sale = paid_sale(session, desk, [(new_item(session, price_minor=5_000, on_hand=1), 1)], discount_percent=10_000)
    (line,) = lines_of(session, sale)
    with pytest.raises(RefundError, match="Nothing was paid"):
        give_back(session, sale.id, [RefundRequest(line.id, 1)], actor=desk)


def test_a_refund_replayed_with_the_same_key_returns_the_same_refund(session, desk):
    case = new_item(session, price_minor=35_000, on_hand=5)
    sale = paid_sale(session, desk, [(case, 3)])
    other = paid_sale(session, desk, [(case, 1)])
    (line,) = lines_of(session, sale)
    key, requests = new_key(), [RefundRequest(line.id, 1)]
    first = give_back(session, sale.id, requests, actor=desk, key=key)
    assert give_back(session, sale.id, requests, actor=desk, key=key) is first
    for changed in (dict(reason="Another reason"), dict(method="card")):
        with pytest.raises(RefundError, match="already submitted with other content"):
            give_back(session, sale.id, requests, actor=desk, key=key, **changed)
    with pytest.raises(RefundError, match="already submitted"):
        give_back(session, sale.id, [RefundRequest(line.id, 2)], actor=desk, key=key)
    with pytest.raises(RefundError, match="already submitted"):
        give_back(session, other.id, [RefundRequest(lines_of(session, other)[0].id, 1)], actor=desk, key=key)
    assert count(session, Refund) == 1
    assert line.refunded_quantity == 1 and movements_of(session, case.id, "returned") == [1]


# --- random sequences -----------------------------------------------------------------------------

@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), quantities=st.lists(st.integers(1, 6), min_size=1, max_size=3))
def test_random_partial_refunds_never_pay_back_more_than_was_paid(session, data, quantities):
    try:
        desk = staff_member(session)
        items = [new_item(session, price_minor=data.draw(st.integers(1, 99_999)), on_hand=q) for q in quantities]
        sale = paid_sale(session, desk, list(zip(items, quantities, strict=True)),
                         discount_percent=data.draw(st.integers(0, 5_000)))
        lines = lines_of(session, sale)
        paid_back = 0
        for _ in range(data.draw(st.integers(1, 8))):
            picked = data.draw(st.lists(st.sampled_from(lines), min_size=1, max_size=len(lines), unique_by=id))
            requests = [RefundRequest(line.id, data.draw(st.integers(1, line.quantity)), data.draw(st.booleans()))
                        for line in picked]
            fits = all(r.quantity <= line.quantity - line.refunded_quantity
                       for r, line in zip(requests, picked, strict=True))
            due = sum(refund_amount(line.total_minor, line.quantity, line.refunded_quantity, line.refunded_minor,
                                    r.quantity) for r, line in zip(requests, picked, strict=True)) if fits else 0
            try:
                with session.begin_nested():
                    amount = give_back(session, sale.id, requests, actor=desk).amount_minor
            except RefundError:
                assert not fits or due == 0  # refused: units not left, or they were paid nothing
            else:
                assert fits and amount == due > 0
                paid_back += amount
            session.expire_all()
            lines = lines_of(session, sale)
        assert paid_back == sum(line.refunded_minor for line in lines) <= sale.total_minor
        for line in lines:
            assert 0 <= line.refunded_minor <= line.total_minor
            if line.total_minor:
                assert (line.refunded_minor == line.total_minor) == (line.refunded_quantity == line.quantity)
        for item in items:
            restocked = sum(rl.quantity for rl in session.scalars(
                select(RefundLine).join(SaleLine).where(SaleLine.item_id == item.id, RefundLine.restocked)))
            assert_books_balance(session, item.id, restocked)
    finally:
        session.rollback()


# --- two desks at once ------------------------------------------------------------------------------

def test_two_desks_refunding_the_last_unit_at_once_pay_it_back_once(app, session):
    first_desk, second_desk = staff_member(session).id, staff_member(session).id
    case = new_item(session, price_minor=35_000, on_hand=2, name="Case Pixel 8")
    sale = paid_sale(session, session.get(StaffUser, first_desk), [(case, 2)])
    (line,) = lines_of(session, sale)
    give_back(session, sale.id, [RefundRequest(line.id, 1)], actor=session.get(StaffUser, first_desk))
    sale_id, line_id, case_id = sale.id, line.id, case.id
    session.commit()
    session.close()

    def refunding(staff_id):
        return lambda s: give_back(s, sale_id, [RefundRequest(line_id, 1)], actor=s.get(StaffUser, staff_id)).number

    outcomes = run_at_once(app, refunding(first_desk), refunding(second_desk))

    assert sorted(map(str, outcomes)) == ["Case Pixel 8: only 0 left to refund.", "RF-00002"]
    line = session.get(SaleLine, line_id)
    assert (line.refunded_quantity, line.refunded_minor) == (2, 70_000)
    assert count(session, Refund) == 2
    assert movements_of(session, case_id, "returned") == [1, 1]
    assert_books_balance(session, case_id, 2)


def test_the_same_refund_posted_twice_at_once_is_one_refund(app, session):
    desk_id = staff_member(session).id
    case = new_item(session, price_minor=35_000, on_hand=3)
    sale = paid_sale(session, session.get(StaffUser, desk_id), [(case, 3)])
    (line,) = lines_of(session, sale)
    sale_id, line_id, case_id = sale.id, line.id, case.id
    session.commit()
    session.close()
    key = new_key()

    def refunding(s):
        return give_back(s, sale_id, [RefundRequest(line_id, 2)], actor=s.get(StaffUser, desk_id), key=key).number

    assert run_at_once(app, refunding, refunding) == ["RF-00001", "RF-00001"]
    assert session.get(SaleLine, line_id).refunded_quantity == 2
    assert movements_of(session, case_id, "returned") == [2]
    assert_books_balance(session, case_id, 2)


def test_a_refund_and_a_checkout_of_the_same_items_at_once_both_go_through(app, session):
    """A refund puts items back in the same (id) order a checkout takes them: no deadlock between them."""
    desk_id = staff_member(session).id
    case = new_item(session, price_minor=35_000, on_hand=10)
    glass = new_item(session, price_minor=25_000, on_hand=10)
    desk = session.get(StaffUser, desk_id)
    sold = paid_sale(session, desk, [(glass, 1), (case, 1)])
    glass_line, case_line = lines_of(session, sold)
    cart = checkout.open_sale(session, actor=desk)
    checkout.add_item(session, cart, case, 1)
    checkout.add_item(session, cart, glass, 1)
    sold_id, cart_id, case_id, glass_id = sold.id, cart.id, case.id, glass.id
    requests = [RefundRequest(glass_line.id, 1), RefundRequest(case_line.id, 1)]
    session.commit()
    session.close()

    outcomes = run_at_once(
        app, lambda s: give_back(s, sold_id, requests, actor=s.get(StaffUser, desk_id)).number,
        lambda s: pay(s, cart_id, actor=s.get(StaffUser, desk_id), tenders=[Tender("card", 60_000)]).number)

    assert outcomes == ["RF-00001", "S-00002"]
    assert_books_balance(session, case_id, 9)
    assert_books_balance(session, glass_id, 9)
