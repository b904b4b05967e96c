"""The feedback request: a service message FEEDBACK_REQUEST_DAYS after pickup, once per order, caught up within the
notification settings' window, never to a customer who refused service messages or has already rated."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from crm.feedback import jobs, service
from crm.jobs import discover
from crm.notifications.models import OutboxMessage
from crm.notifications.outbox import NO_SERVICE_CONSENT
from crm.notifications.settings import get_settings
from tests import factories
from tests.feedback.conftest import PICKED_UP_AT, picked_up_order

DELAY = 2


@pytest.fixture(autouse=True)
def _email_configured(app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")  # nothing is sent: the outbox row is the effect


def requests(session) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.event == "feedback_request")
                                .order_by(OutboxMessage.id)))


def run(session, now):
    return jobs.request_feedback(session, now=now, delay_days=DELAY)


def customer(**kw):
    return factories.customer(email="owner@example.com", **kw)


def test_the_request_goes_out_the_set_number_of_days_after_pickup_with_the_link(session):
    order = picked_up_order(session, customer=customer())
    assert run(session, PICKED_UP_AT + timedelta(days=DELAY) - timedelta(minutes=1)) == 0
    assert run(session, PICKED_UP_AT + timedelta(days=DELAY)) == 1
    [message] = requests(session)
    assert (message.kind, message.status, message.dedupe_key) == ("service", "pending", f"feedback:{order.id}")
    assert f"/t/{order.tracking_token}" in message.body_text and order.number in message.body_text


def test_once_per_order_however_often_the_job_runs(session):
    picked_up_order(session, customer=customer())
    for hours in (0, 1, 24, 48):
        run(session, PICKED_UP_AT + timedelta(days=DELAY, hours=hours))
    assert len(requests(session)) == 1


def test_a_pickup_missed_while_the_scheduler_was_down_is_caught_up_within_the_window_only(session):
    window = get_settings(session).catch_up_days
    late = picked_up_order(session, customer=customer(), at=PICKED_UP_AT)
    picked_up_order(session, customer=customer(), at=PICKED_UP_AT - timedelta(days=2))
    assert run(session, PICKED_UP_AT + timedelta(days=DELAY + window)) == 1
    assert [m.dedupe_key for m in requests(session)] == [f"feedback:{late.id}"]


def test_a_customer_without_service_consent_is_not_messaged(session):
    picked_up_order(session, customer=customer(service_consent=False))
    run(session, PICKED_UP_AT + timedelta(days=DELAY))
    [message] = requests(session)
    assert (message.status, message.last_error) == ("skipped", NO_SERVICE_CONSENT)


def test_a_customer_who_already_rated_is_not_asked(session):
    order = picked_up_order(session, customer=customer())
    service.leave_feedback(session, order.id, 5, "", change_days=3, now=PICKED_UP_AT + timedelta(hours=1))
    assert run(session, PICKED_UP_AT + timedelta(days=DELAY)) == 0
    assert requests(session) == []


def test_orders_not_picked_up_are_not_asked(session, make):
    make.order(customer())
    assert run(session, PICKED_UP_AT + timedelta(days=30)) == 0


def test_the_job_is_registered_with_the_delay_setting(app, session, monkeypatch):
    job = discover()["feedback-requests"]
    picked_up_order(session, customer=customer())
    monkeypatch.setitem(app.config, "FEEDBACK_REQUEST_DAYS", 5)
    assert job.function(session, PICKED_UP_AT + timedelta(days=4)) == 0
    assert job.function(session, PICKED_UP_AT + timedelta(days=5)) == 1
