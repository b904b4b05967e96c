"""Quote approval rules (crm.orders.quotes): versions, approving, declining with and without the diagnostic fee,
deciding once (also under concurrency, with real threads) and refusing a stale page."""

import threading

import pytest
from sqlalchemy import select

from crm.auth.models import Role
from crm.catalogue.models import CatalogueItem, ItemCategory
from crm.catalogue.stock import record_movement
from crm.customers.models import Customer
from crm.extensions import db
from crm.loyalty.accounts import enrol
from crm.loyalty.models import Tier
from crm.notifications.models import OutboxMessage
from crm.orders import quotes, service
from crm.orders.models import OrderStatusChange, QuoteDecision, RepairOrder, RepairOrderLine
from crm.orders.quotes import QuoteError, StaleQuote
from tests import factories


def _awaiting(session, *, on_approval=None, lines=(("Screen replacement", 150000),), estimate=None, **fields):
    technician = factories.staff(role=Role.TECHNICIAN)
    customer = factories.customer(email="olena@example.com", **fields)
    order = factories.order(customer, estimate_minor=estimate)
    for description, price in lines:
        service.add_line(session, order, kind="labour", description=description, quantity=1,
                         unit_price_minor=price, actor=technician)
    service.change_status(session, order, "diagnosing", actor=technician)
    service.change_status(session, order, "awaiting_approval", actor=technician, on_approval=on_approval)
    return order, technician


def _lines(session, order):
    return list(session.scalars(select(RepairOrderLine).where(RepairOrderLine.order_id == order.id)))


def test_every_line_added_or_removed_moves_the_quote_version_on(session):
    order = factories.order()
    assert order.quote_version == 0
    line = service.add_line(session, order, kind="labour", description="Work", quantity=1, unit_price_minor=100,
                            actor=None)
    assert order.quote_version == 1
    service.add_line(session, order, kind="labour", description="More", quantity=1, unit_price_minor=100, actor=None)
    service.remove_line(session, order, line.id)
    assert order.quote_version == 3


def test_the_current_quote_has_lines_total_estimate_and_difference(session):
    order, _ = _awaiting(session, lines=[("Screen", 150000), ("Glue", 5000)], estimate=120000)
    quote = quotes.current_quote(session, order)
    assert [line.description for line in quote.lines] == ["Screen", "Glue"]
    assert (quote.total_minor, quote.estimate_minor, quote.difference_minor) == (155000, 120000, 35000)
    assert quote.version == order.quote_version and quote.decision is None


def test_asking_for_approval_needs_a_quote(session):
    technician = factories.staff(role=Role.TECHNICIAN)
    order = factories.order()
    service.change_status(session, order, "diagnosing", actor=technician)
    with pytest.raises(service.OrderError, match="Add the work and parts"):
        service.change_status(session, order, "awaiting_approval", actor=technician)


def test_approving_moves_the_order_to_the_status_the_technician_chose(session):
    order, _ = _awaiting(session, on_approval="awaiting_parts")
    decision = quotes.decide(session, order.id, order.quote_version, "approved", via="link")
    assert order.status == "awaiting_parts"
    assert (decision.decision, decision.via, decision.decided_by_id, decision.total_minor) == (
        "approved", "link", None, 150000)
    last = session.scalars(select(OrderStatusChange).where(OrderStatusChange.order_id == order.id)
                           .order_by(OrderStatusChange.id.desc())).first()
    assert last.changed_by_id is None and "by the customer through the link" in last.note


def test_approving_goes_to_in_repair_when_the_technician_chose_nothing(session):
    order, _ = _awaiting(session)
    quotes.decide(session, order.id, order.quote_version, "approved", via="link")
    assert order.status == "in_repair"


def test_declining_without_a_fee_returns_the_device_with_nothing_to_pay(session):
    order, _ = _awaiting(session)
    decision = quotes.decide(session, order.id, order.quote_version, "declined", via="link", diagnostic_fee_minor=0)
    assert order.status == "ready"
    assert _lines(session, order) == []
    assert decision.total_minor == 150000  # what was declined stays on record


def test_declining_with_a_fee_leaves_one_diagnostics_line_for_the_checkout(session):
    order, _ = _awaiting(session)
    quotes.decide(session, order.id, order.quote_version, "declined", via="link", diagnostic_fee_minor=20000)
    assert [(line.kind, line.description, line.unit_price_minor) for line in _lines(session, order)] == [
        ("labour", "Diagnostics", 20000)]
    assert order.status == "ready"
    # The decision still holds: the fee is its consequence, not a new quote.
    assert quotes.current_quote(session, order).decision.decision == "declined"


def test_a_tier_with_free_diagnostics_pays_no_fee(session):
    order, _ = _awaiting(session)
    gold = session.scalar(select(Tier).where(Tier.free_diagnostics.is_(True)))
    account = enrol(session, session.get(Customer, order.customer_id))
    account.tier_id = gold.id
    session.flush()
    quotes.decide(session, order.id, order.quote_version, "declined", via="link", diagnostic_fee_minor=20000)
    assert _lines(session, order) == []


def test_declining_puts_quoted_parts_back_on_the_shelf(session):
    category = session.scalar(select(ItemCategory).where(ItemCategory.code == "spare_part"))
    item = CatalogueItem(sku="SCR-1", name="Screen", category_id=category.id, price_minor=90000, cost_minor=0,
                         stock_tracked=True)
    session.add(item)
    session.flush()
    record_movement(session, item, "received", 3, actor=None)
    technician = factories.staff(role=Role.TECHNICIAN)
    order = factories.order()
    service.add_line(session, order, kind="part", quantity=1, actor=technician, item=item)
    service.change_status(session, order, "diagnosing", actor=technician)
    service.change_status(session, order, "awaiting_approval", actor=technician)
    assert item.on_hand == 2
    quotes.decide(session, order.id, order.quote_version, "declined", via="link")
    session.refresh(item)
    assert item.on_hand == 3


def test_a_second_decision_for_the_same_version_returns_the_first(session):
    order, _ = _awaiting(session)
    version = order.quote_version
    first = quotes.decide(session, order.id, version, "approved", via="link")
    again = quotes.decide(session, order.id, version, "declined", via="link", diagnostic_fee_minor=20000)
    assert again.id == first.id and again.decision == "approved"
    assert order.status == "in_repair"
    assert session.scalar(select(db.func.count()).select_from(QuoteDecision)) == 1


def test_a_stale_page_is_refused_with_a_clear_message(session):
    order, technician = _awaiting(session)
    seen = order.quote_version
    service.add_line(session, order, kind="labour", description="Battery", quantity=1, unit_price_minor=50000,
                     actor=technician)
    with pytest.raises(StaleQuote, match="The quote changed since this page was opened"):
        quotes.decide(session, order.id, seen, "approved", via="link")
    assert order.status == "awaiting_approval"


def test_a_quote_changed_after_approval_asks_the_customer_again(session):
    order, technician = _awaiting(session, on_approval="awaiting_parts")
    quotes.decide(session, order.id, order.quote_version, "approved", via="link")
    assert order.status == "awaiting_parts"
    service.add_line(session, order, kind="labour", description="Battery", quantity=1, unit_price_minor=50000,
                     actor=technician)
    assert order.status == "awaiting_approval"
    assert order.approval_target == "awaiting_parts"  # approving again goes back where it was
    quote = quotes.current_quote(session, order)
    assert quote.decision is None and quote.total_minor == 200000
    quotes.decide(session, order.id, quote.version, "approved", via="link")
    assert order.status == "awaiting_parts"


def test_lines_changed_on_a_ready_order_do_not_reopen_the_quote(session):
    order, technician = _awaiting(session)
    quotes.decide(session, order.id, order.quote_version, "approved", via="link")
    service.change_status(session, order, "ready", actor=technician)
    service.add_line(session, order, kind="labour", description="Cleaning", quantity=1, unit_price_minor=0,
                     actor=technician)
    assert order.status == "ready"


def test_an_order_not_awaiting_approval_cannot_be_decided(session):
    order = factories.order()
    with pytest.raises(QuoteError, match="not waiting for a decision"):
        quotes.decide(session, order.id, order.quote_version, "approved", via="link")


def test_a_phone_decision_names_the_staff_member_and_needs_a_note(session):
    order, _ = _awaiting(session)
    desk = factories.staff(role=Role.FRONT_DESK)
    with pytest.raises(QuoteError, match="Write down what the customer said"):
        quotes.decide(session, order.id, order.quote_version, "approved", via="phone", actor=desk, note="  ")
    decision = quotes.decide(session, order.id, order.quote_version, "declined", via="phone", actor=desk,
                             note="Too expensive, will buy a new one")
    assert (decision.via, decision.decided_by_id, decision.note) == ("phone", desk.id,
                                                                      "Too expensive, will buy a new one")
    assert [d.id for d in quotes.decisions_of(session, order.id)] == [decision.id]


def test_the_awaiting_approval_message_carries_the_link_and_the_total(app, session, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    order, _ = _awaiting(session, lines=[("Screen", 150000), ("Glue", 5000)])
    message = session.scalars(select(OutboxMessage).where(OutboxMessage.event == "status_changed")
                              .order_by(OutboxMessage.id.desc())).first()
    assert order.tracking_token in message.body_text
    assert "The quote is UAH1,550.00. Approve or decline it here" in message.body_text


def test_the_form_token_is_bound_to_the_tracking_token_and_the_version():
    token = quotes.form_token("k" * 32, "abc", 3)
    assert quotes.form_token_valid("k" * 32, "abc", 3, token)
    assert not quotes.form_token_valid("k" * 32, "abc", 4, token)
    assert not quotes.form_token_valid("k" * 32, "abd", 3, token)
    assert not quotes.form_token_valid("x" * 32, "abc", 3, token)
    assert not quotes.form_token_valid("k" * 32, "abc", 3, "")
    assert not quotes.form_token_valid("k" * 32, "abc", 3, "１２３\ud7ff")


def test_two_decisions_at_once_decide_once(app, session):
    """Approve and decline posted at the same moment (two tabs): one decision, and both callers get it."""
    order, _ = _awaiting(session)
    order_id, version = order.id, order.quote_version
    session.commit()
    session.close()
    start = threading.Barrier(2, timeout=10)
    results: dict[str, object] = {}

    def decide(choice):
        with app.app_context():
            try:
                start.wait()
                decision = quotes.decide(db.session, order_id, version, choice, via="link",
                                         diagnostic_fee_minor=20000)
                db.session.commit()
                results[choice] = decision.decision
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                db.session.rollback()
                results[choice] = repr(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=decide, args=(choice,)) for choice in ("approved", "declined")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert len(results) == 2 and len(set(results.values())) == 1, results
    winner = results["approved"]
    assert winner in ("approved", "declined")
    assert session.scalar(select(db.func.count()).select_from(QuoteDecision)) == 1
    order = session.get(RepairOrder, order_id)
    assert order.status == ("in_repair" if winner == "approved" else "ready")
    changes = session.scalar(select(db.func.count()).select_from(OrderStatusChange)
                             .where(OrderStatusChange.order_id == order_id))
    assert changes == 4  # received, diagnosing, awaiting approval, and one decision's move
