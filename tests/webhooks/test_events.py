"""Webhook events are queued in the transaction of their cause (crm.webhooks.events), with stable ids and the
business fields a receiver needs, at the cost of at most one SELECT per transaction when nobody listens."""

import json
from datetime import UTC, datetime

from sqlalchemy import insert

from crm.extensions import db
from crm.loyalty import accounts
from crm.loyalty.program import update_program
from crm.orders import service as order_service
from crm.orders.status import Status
from crm.webhooks import events
from crm.webhooks.delivery import signature
from crm.webhooks.models import WebhookEndpoint
from tests import factories
from tests.factories import sales as sale_factories
from tests.webhooks.conftest import add_endpoint, deliveries

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _bodies(session, event=None):
    rows = deliveries(session, **({"event": event} if event else {}))
    return [json.loads(row.body) for row in rows]


def test_a_status_change_queues_a_signed_body_with_the_orders_fields(session):
    endpoint, _ = add_endpoint(session)
    manager = sale_factories.staff_member(session, "manager")
    order = factories.order()
    order_service.change_status(session, order, Status.DIAGNOSING, actor=manager, now=NOW)
    [row] = deliveries(session)
    body = json.loads(row.body)
    assert row.endpoint_id == endpoint.id and row.status == "pending" and row.attempts == 0
    assert body["type"] == "order.status_changed" and body["id"] == row.event_id and row.event_id.startswith("evt_")
    assert body["created_at"] == "2026-11-23T12:00:00Z"
    assert body["data"]["order"] == {"id": order.id, "number": order.number, "customer_id": order.customer_id,
                                     "status": "diagnosing", "previous_status": "received",
                                     "technician_id": order.technician_id}


def test_ready_for_pickup_is_an_event_of_its_own_as_well(session):
    add_endpoint(session)
    order = sale_factories.ready_order(session)
    assert [row.event for row in deliveries(session)] == ["order.status_changed", "order.status_changed",
                                                         "order.ready"]
    [ready] = _bodies(session, "order.ready")
    assert ready["data"]["order"]["id"] == order.id and ready["data"]["order"]["status"] == "ready"


def test_an_endpoint_gets_only_the_events_it_chose(session):
    add_endpoint(session, events=["order.ready"])
    sale_factories.ready_order(session)
    assert [row.event for row in deliveries(session)] == ["order.ready"]


def test_a_paid_sale_and_its_points_are_events_with_amounts_in_minor_units(session):
    add_endpoint(session, events=["sale.paid", "points.changed"])
    update_program(session, {"welcome_bonus": 0}, actor=None)
    desk = sale_factories.staff_member(session)
    customer = factories.customer(marketing_consent=True)
    accounts.enrol(session, customer, now=NOW)
    item = sale_factories.new_item(session, price_minor=10_000, on_hand=3)
    sale = sale_factories.checkout.open_sale(session, actor=desk, customer=customer)
    sale_factories.checkout.add_item(session, sale, item, 2)
    sale_factories.pay(session, sale.id, actor=desk, now=NOW)
    [paid] = _bodies(session, "sale.paid")
    assert paid["data"]["sale"] == {"id": sale.id, "number": sale.number, "customer_id": customer.id,
                                    "repair_order_id": None, "subtotal_minor": 20_000, "discount_minor": 0,
                                    "total_minor": 20_000, "currency": "UAH", "paid_at": "2026-11-23T12:00:00Z"}
    [points] = _bodies(session, "points.changed")
    assert points["data"]["customer_id"] == customer.id and points["data"]["kind"] == "earn"
    assert points["data"]["points"] > 0 and points["data"]["balance"] == points["data"]["points"]
    assert set(points["data"]) == {"customer_id", "entry_id", "kind", "points", "balance", "reference",
                                   "created_at"}


def test_a_rolled_back_change_queues_nothing(session):
    add_endpoint(session)
    session.commit()
    manager = sale_factories.staff_member(session, "manager")
    order_service.change_status(session, factories.order(), Status.DIAGNOSING, actor=manager)
    assert len(deliveries(session)) == 1  # in the transaction...
    session.rollback()
    assert deliveries(session) == []  # ...and gone with it


def test_a_switched_off_endpoint_gets_nothing(session):
    add_endpoint(session, active=False)
    sale_factories.ready_order(session)
    assert deliveries(session) == []


def test_one_event_has_one_id_for_every_endpoint(session):
    first, _ = add_endpoint(session, events=["order.ready"])
    second, _ = add_endpoint(session, url="https://other.example.test/in", events=["order.ready"])
    sale_factories.ready_order(session)
    rows = deliveries(session)
    assert [row.endpoint_id for row in rows] == [first.id, second.id]
    assert rows[0].event_id == rows[1].event_id and rows[0].body == rows[1].body


def test_no_endpoint_costs_one_select_per_transaction_and_no_insert(session, count_queries):
    manager = sale_factories.staff_member(session, "manager")
    order = factories.order()
    session.commit()
    session.refresh(order)  # loaded again in the new transaction, so only the event's own statements count
    with count_queries() as counter:
        events.order_status_changed(session, order, previous="received", ready=False, now=NOW)
        events.order_status_changed(session, order, previous="received", ready=True, now=NOW)
        events.points_changed(session, type("Entry", (), {"customer_id": 1, "id": 1, "kind": "earn", "points": 1,
                                                          "balance_after": 1, "reference": "", "created_at": NOW}))
    assert counter.count == 1 and "webhooks_endpoint" in counter.statements[0]
    session.commit()  # a new transaction reads the endpoints again: one added meanwhile is seen
    add_endpoint(session, events=["order.ready"])
    session.commit()
    session.refresh(order)
    with count_queries() as counter:
        order_service.change_status(session, order, Status.DIAGNOSING, actor=manager, now=NOW)
        events.order_status_changed(session, order, previous="diagnosing", ready=True, now=NOW)
    webhook_statements = [s for s in counter.statements if "webhooks_" in s]
    assert len(webhook_statements) == 2  # one SELECT of the endpoints, one INSERT for order.ready
    assert [row.event for row in deliveries(session)] == ["order.ready"]


def test_the_endpoints_changed_in_a_transaction_are_read_again(session):
    events.subscribers(session, "order.ready")  # read (none) and kept for the transaction
    add_endpoint(session, events=["order.ready"])  # the service forgets what was read
    assert len(events.subscribers(session, "order.ready")) == 1


def test_the_signature_is_the_hmac_of_timestamp_dot_body():
    # Computed independently: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
    assert signature("whsec_test", "1700000000", b'{"a":1}') == (
        "sha256=" + __import__("hmac").new(b"whsec_test", b'1700000000.{"a":1}', "sha256").hexdigest())
    assert signature("whsec_test", "1700000000", b'{"a":1}') != signature("whsec_other", "1700000000", b'{"a":1}')
    assert signature("whsec_test", "1700000001", b'{"a":1}') != signature("whsec_test", "1700000000", b'{"a":1}')


def test_an_endpoint_added_by_another_process_is_seen_from_the_next_transaction(app, session):
    assert events.subscribers(session, "order.ready") == []  # read and kept for this transaction
    with session.begin_nested():  # a savepoint ending keeps what the transaction read
        pass
    assert "crm.webhooks.subscriptions" in session.info
    session.rollback()  # the transaction ends (a commit does the same): what it read is forgotten
    assert "crm.webhooks.subscriptions" not in session.info
    with app.app_context():
        other = db.engine.connect()  # another worker adds an endpoint and commits
    with other.begin():
        other.execute(insert(WebhookEndpoint).values(url="https://other.example.test/in", events=",order.ready,",
                                                     secret="whsec_x", active=True, description="",
                                                     created_at=NOW, secret_created_at=NOW))
    other.close()
    assert len(events.subscribers(session, "order.ready")) == 1
