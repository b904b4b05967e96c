"""Desks racing each other for real: each desk is a thread with its own app context, session and database
connection, released together by a barrier, committing its own work (file-backed SQLite here, PostgreSQL
when TEST_DATABASE_URL is set). Whatever the timing: one payment set per bill, stock taken once, and a
clear refusal for the desk that came second."""

from sqlalchemy import select

from crm.auth.models import Role, StaffUser
from crm.orders.models import OrderStatusChange, RepairOrder
from crm.orders.status import Status
from crm.sales import checkout
from crm.sales.checkout import AlreadyPaid, CheckoutError
from crm.sales.models import Payment, Sale
from crm.sales.pricing import Tender
from tests.factories.sales import (
    PAYMENT_METHODS,
    SALE_PREFIX,
    assert_books_balance,
    count,
    movements_of,
    new_item,
    new_key,
    payments_of,
    ready_order,
    run_at_once,
    staff_member,
)


def desks(session, n: int) -> list[int]:
    return [staff_member(session, Role.FRONT_DESK).id for _ in range(n)]


def paying(sale_id: int, staff_id: int, tenders: list[Tender], expected_total: int, key: str | None = None):
    """What one desk's "Pay" button does: check the sale out and answer with the receipt number."""
    def desk(session):
        sale = checkout.checkout(session, sale_id, key=key or new_key(), tenders=tenders,
                                 expected_total_minor=expected_total, actor=session.get(StaffUser, staff_id),
                                 payment_methods=PAYMENT_METHODS, number_prefix=SALE_PREFIX)
        return sale.number
    return desk


def release_the_database(session) -> None:
    """Commit the set-up and hold no transaction (on SQLite: no write lock) while the desks run."""
    session.commit()
    session.close()


def test_desks_paying_the_same_bill_at_once_get_one_payment_and_a_clear_refusal(app, session):
    staff = desks(session, 3)
    case = new_item(session, price_minor=35_000, on_hand=5)
    sale = checkout.open_sale(session, actor=None)
    checkout.add_item(session, sale, case, 2)
    sale_id, case_id = sale.id, case.id
    release_the_database(session)

    outcomes = run_at_once(app, paying(sale_id, staff[0], [Tender("cash", 70_000)], 70_000),
                           paying(sale_id, staff[1], [Tender("card", 70_000)], 70_000),
                           paying(sale_id, staff[2], [Tender("bank_transfer", 70_000)], 70_000))

    assert sorted(map(str, outcomes)) == ["S-00001"] + ["This bill was already paid (receipt S-00001)."] * 2
    refusals = [o for o in outcomes if isinstance(o, AlreadyPaid)]
    assert len(refusals) == 2 and all(r.field == "payments" for r in refusals)
    winner = outcomes.index("S-00001")
    paid = session.get(Sale, sale_id)
    assert (paid.status, paid.paid_by_id, paid.total_minor) == ("paid", staff[winner], 70_000)
    assert [p[1] for p in payments_of(session, sale_id)] == [70_000]
    assert count(session, Payment) == 1
    assert movements_of(session, case_id, "sold") == [-2]
    assert_books_balance(session, case_id, 3)


def test_the_same_checkout_posted_twice_at_once_pays_once(app, session):
    """A double click sends the same form twice: both answers show the one receipt."""
    (staff_id,) = desks(session, 1)
    case = new_item(session, price_minor=35_000, on_hand=5)
    sale = checkout.open_sale(session, actor=None)
    checkout.add_item(session, sale, case, 1)
    sale_id, case_id = sale.id, case.id
    release_the_database(session)
    key, tenders = new_key(), [Tender("cash", 50_000)]

    outcomes = run_at_once(app, paying(sale_id, staff_id, tenders, 35_000, key=key),
                           paying(sale_id, staff_id, tenders, 35_000, key=key))

    assert outcomes == ["S-00001", "S-00001"]
    assert payments_of(session, sale_id) == [("cash", 35_000, 50_000)]
    assert session.get(Sale, sale_id).change_minor == 15_000
    assert movements_of(session, case_id, "sold") == [-1]
    assert_books_balance(session, case_id, 4)


def test_two_desks_checking_out_the_same_repair_at_once_hand_it_back_once(app, session):
    staff = desks(session, 2)
    screen = new_item(session, price_minor=150_000, on_hand=2, category="spare_part")
    order = ready_order(session, [("labour", 1, 100_000)], parts=[(screen, 1)])
    glass = new_item(session, price_minor=25_000, on_hand=3)
    bill = checkout.sale_for_repair(session, order.id, actor=None)
    checkout.add_item(session, bill, glass, 1)  # the customer also buys a screen protector
    order_id, screen_id, glass_id = order.id, screen.id, glass.id
    release_the_database(session)

    def desk_hands_back(staff_id, method):
        def desk(session):
            sale = checkout.sale_for_repair(session, order_id, actor=session.get(StaffUser, staff_id))
            return paying(sale.id, staff_id, [Tender(method, 275_000)], 275_000)(session)
        return desk

    outcomes = run_at_once(app, desk_hands_back(staff[0], "cash"), desk_hands_back(staff[1], "card"))

    assert sorted(map(str, outcomes)) == ["S-00001", "This bill was already paid (receipt S-00001)."]
    assert count(session, Sale) == 1 and count(session, Payment) == 1
    assert session.get(RepairOrder, order_id).status == Status.PICKED_UP
    handed_back = session.scalars(select(OrderStatusChange).where(OrderStatusChange.order_id == order_id,
                                                                  OrderStatusChange.to_status == "picked_up")).all()
    assert len(handed_back) == 1
    assert movements_of(session, glass_id, "sold") == [-1]
    assert movements_of(session, screen_id, "sold") == []
    assert_books_balance(session, glass_id, 2)
    assert_books_balance(session, screen_id, 1)


def test_a_repair_bill_opened_by_two_desks_at_once_is_one_bill(app, session):
    order_id = ready_order(session).id
    release_the_database(session)

    outcomes = run_at_once(app, *[lambda s: checkout.sale_for_repair(s, order_id, actor=None).id] * 2)

    assert outcomes[0] == outcomes[1]
    assert count(session, Sale) == 1


def test_two_desks_selling_the_last_unit_from_two_carts_sell_it_once(app, session):
    staff = desks(session, 2)
    charger = new_item(session, price_minor=79_900, on_hand=1, name="Charger 20 W")
    carts = []
    for _ in staff:  # each cart was filled while the unit was still on the shelf
        sale = checkout.open_sale(session, actor=None)
        checkout.add_item(session, sale, charger, 1)
        carts.append(sale.id)
    charger_id = charger.id
    release_the_database(session)

    outcomes = run_at_once(app, paying(carts[0], staff[0], [Tender("cash", 80_000)], 79_900),
                           paying(carts[1], staff[1], [Tender("card", 79_900)], 79_900))

    sold = [o for o in outcomes if o == "S-00001"]
    refused = [o for o in outcomes if isinstance(o, CheckoutError)]
    assert len(sold) == 1 and len(refused) == 1
    assert str(refused[0].message) == "Only 0 of Charger 20 W in stock."
    loser = carts[outcomes.index(refused[0])]
    assert session.get(Sale, loser).status == "open"
    assert payments_of(session, loser) == []
    assert count(session, Payment) == 1
    assert movements_of(session, charger_id, "sold") == [-1]
    assert_books_balance(session, charger_id, 0)


def test_carts_holding_the_same_items_in_opposite_order_pay_at_once(app, session):
    """Each checkout takes its items' rows in one order, so two carts never wait on each other in a
    circle (on PostgreSQL that would be a deadlock and one desk would see an error page)."""
    staff = desks(session, 2)
    case = new_item(session, price_minor=35_000, on_hand=10)
    glass = new_item(session, price_minor=25_000, on_hand=10)
    carts = []
    for first, second in ((case, glass), (glass, case)):
        sale = checkout.open_sale(session, actor=None)
        checkout.add_item(session, sale, first, 1)
        checkout.add_item(session, sale, second, 1)
        carts.append(sale.id)
    case_id, glass_id = case.id, glass.id
    release_the_database(session)

    outcomes = run_at_once(app, paying(carts[0], staff[0], [Tender("cash", 60_000)], 60_000),
                           paying(carts[1], staff[1], [Tender("card", 60_000)], 60_000))

    assert sorted(outcomes) == ["S-00001", "S-00002"]
    assert_books_balance(session, case_id, 8)
    assert_books_balance(session, glass_id, 8)
