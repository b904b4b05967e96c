"""Emitting webhook events, in the caller's transaction (a rolled-back change sends nothing).

The services call one function each (``order_status_changed``, ``sale_paid``, ``points_changed``); each builds
the event's data from the object at hand and ``emit`` queues one delivery per active endpoint that wants the
event. Cost: the first event of a transaction reads the active endpoints once (one small SELECT; the answer is
kept on the session until the transaction ends); an event that no endpoint wants then costs no statement, and one
that some want costs one INSERT of its deliveries. Objects are read by their attributes only, so this module
imports none of the modules that call it."""

import json
import uuid
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import event as sa_event
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from crm.database import utcnow
from crm.locales import lazy_gettext as _l
from crm.webhooks.models import WebhookDelivery, WebhookEndpoint

ORDER_STATUS_CHANGED = "order.status_changed"
ORDER_READY = "order.ready"
SALE_PAID = "sale.paid"
POINTS_CHANGED = "points.changed"
EVENTS = {
    ORDER_STATUS_CHANGED: _l("A repair order's status changed"),
    ORDER_READY: _l("A repair order is ready for pickup"),
    SALE_PAID: _l("A sale was paid"),
    POINTS_CHANGED: _l("A customer's points changed"),
}
_SUBSCRIPTIONS = "crm.webhooks.subscriptions"  # the session.info key of the active endpoints, per transaction


def new_event_id() -> str:
    return "evt_" + uuid.uuid4().hex


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def event_body(event_id: str, event: str, created_at: datetime, data: dict) -> str:
    """The JSON a receiver gets, as one compact line (the bytes the signature covers)."""
    return json.dumps({"id": event_id, "type": event, "created_at": iso(created_at), "data": data},
                      ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def subscribers(session: Session, event: str) -> list[int]:
    """The ids of the active endpoints that want ``event`` (the endpoints are read once per transaction)."""
    endpoints = session.info.get(_SUBSCRIPTIONS)
    if endpoints is None:
        rows = session.execute(select(WebhookEndpoint.id, WebhookEndpoint.events)
                               .where(WebhookEndpoint.active.is_(True)).order_by(WebhookEndpoint.id))
        endpoints = session.info[_SUBSCRIPTIONS] = [(row.id, row.events) for row in rows]
    return [endpoint_id for endpoint_id, events in endpoints if f",{event}," in events]


@sa_event.listens_for(Session, "after_transaction_end")
def _forget_subscriptions(session: Session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended: the next one reads the endpoints again
        session.info.pop(_SUBSCRIPTIONS, None)


def forget_subscriptions(session: Session) -> None:
    """The endpoints changed in this transaction: the next event reads them again."""
    session.info.pop(_SUBSCRIPTIONS, None)


def emit(session: Session, event: str, data: dict, *, now: datetime | None = None,
         endpoint_ids: list[int] | None = None) -> str | None:
    """Queue ``event`` with ``data`` for every active endpoint that wants it (or for ``endpoint_ids``); returns the
    event id, or None when nobody wants it. Delivered after the caller commits, never if it rolls back."""
    if event not in EVENTS and endpoint_ids is None:
        raise ValueError(f"unknown webhook event {event}")
    targets = subscribers(session, event) if endpoint_ids is None else endpoint_ids
    if not targets:
        return None
    now = now or utcnow()
    event_id = new_event_id()
    body = event_body(event_id, event, now, data)
    session.execute(insert(WebhookDelivery), [
        dict(endpoint_id=endpoint_id, event_id=event_id, event=event, body=body, status="pending", attempts=0,
             next_attempt_at=now, last_error="", created_at=now) for endpoint_id in targets])
    return event_id


# --- the events the services emit (one line in each) -------------------------------------------------------------

def order_status_changed(session: Session, order, *, previous: str | None, ready: bool,
                         now: datetime | None = None) -> None:
    """A repair order moved from ``previous`` to ``order.status``; ``ready``: it is now ready for pickup, which is
    an event of its own as well."""
    if not session.info.get(_SUBSCRIPTIONS, True):
        return  # no endpoint at all in this transaction: not even the data is built
    data = {"order": {"id": order.id, "number": order.number, "customer_id": order.customer_id,
                      "status": order.status, "previous_status": previous, "technician_id": order.technician_id},
            "changed_at": iso(now or utcnow())}
    emit(session, ORDER_STATUS_CHANGED, data, now=now)
    if ready:
        emit(session, ORDER_READY, data, now=now)


def sale_paid(session: Session, sale, *, now: datetime | None = None) -> None:
    if not session.info.get(_SUBSCRIPTIONS, True):
        return
    emit(session, SALE_PAID, {"sale": {
        "id": sale.id, "number": sale.number, "customer_id": sale.customer_id, "repair_order_id": sale.repair_order_id,
        "subtotal_minor": sale.subtotal_minor, "discount_minor": sale.discount_minor, "total_minor": sale.total_minor,
        "currency": current_app.config["CURRENCY"], "paid_at": iso(sale.paid_at)}}, now=now)


def points_changed(session: Session, entry) -> None:
    """A ledger entry was posted: its signed points and the balance after it."""
    if not session.info.get(_SUBSCRIPTIONS, True):
        return
    emit(session, POINTS_CHANGED, {
        "customer_id": entry.customer_id, "entry_id": entry.id, "kind": entry.kind, "points": entry.points,
        "balance": entry.balance_after, "reference": entry.reference, "created_at": iso(entry.created_at)},
        now=entry.created_at if entry.kind != "expire" else None)
