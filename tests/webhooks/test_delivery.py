"""Deliveries against a real HTTP server on loopback: signed so the README's check verifies them, retried with the
dispatcher's backoff, failed with the reason after the maximum of attempts, sent again by the manager's retry."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from crm.notifications.settings import save_settings
from crm.webhooks import events, service
from crm.webhooks.delivery import deliver
from crm.webhooks.jobs import deliver_webhooks
from tests.webhooks.conftest import add_endpoint, deliveries, headers_of, verify

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def receiver(session, http_recorder):
    """An endpoint at the loopback server, and the event queued for it (committed)."""
    endpoint, secret = add_endpoint(session, url=http_recorder.url + "/crm-hook", events=["order.ready"])
    event_id = events.emit(session, "order.ready", {"order": {"id": 7, "number": "R-00007", "status": "ready"}},
                           now=NOW)
    session.commit()
    return endpoint, secret, event_id


def test_a_delivery_is_a_signed_json_post_that_the_receiver_verifies(session, http_recorder, receiver):
    endpoint, secret, event_id = receiver
    result = deliver(session, now=NOW)
    assert (result.sent, result.retrying, result.failed) == (1, 0, 0)
    [request] = http_recorder.requests
    assert request.method == "POST" and request.path == "/crm-hook"
    assert headers_of(request)["Content-Type"] == "application/json"
    assert headers_of(request)["X-CRM-Event-Id"] == event_id == request.json["id"]
    assert headers_of(request)["X-CRM-Event"] == "order.ready" == request.json["type"]
    assert request.json["data"] == {"order": {"id": 7, "number": "R-00007", "status": "ready"}}
    assert headers_of(request)["X-CRM-Signature"].startswith("sha256=")
    assert verify(secret, headers_of(request), request.body)
    assert not verify("whsec_someone-else", headers_of(request), request.body)
    assert not verify(secret, headers_of(request), request.body.replace(b"R-00007", b"R-00008"))
    [row] = deliveries(session)
    assert (row.status, row.attempts, row.response_status, row.last_error) == ("sent", 1, 200, "")
    assert deliver(session, now=NOW + timedelta(days=1)).claimed == 0  # delivered once


def test_a_500_then_a_200_retries_after_the_backoff_with_the_same_event_and_body(session, http_recorder, receiver):
    _, secret, event_id = receiver
    http_recorder.respond(500, text="busy, try later")
    first = deliver(session, now=NOW)
    assert (first.sent, first.retrying) == (0, 1)
    [row] = deliveries(session)
    assert (row.status, row.attempts, row.response_status) == ("pending", 1, 500)
    assert row.last_error == "HTTP 500: busy, try later"
    assert row.next_attempt_at == NOW + timedelta(seconds=60)  # NOTIFY_RETRY_BASE_SECONDS, then doubling
    assert deliver(session, now=NOW + timedelta(seconds=30)).claimed == 0  # not due yet

    assert deliver(session, now=NOW + timedelta(seconds=61)).sent == 1
    [row] = deliveries(session)
    assert (row.status, row.attempts, row.response_status, row.last_error) == ("sent", 2, 200, "")
    first_try, second_try = http_recorder.requests
    assert first_try.body == second_try.body
    assert headers_of(first_try)["X-CRM-Event-Id"] == headers_of(second_try)["X-CRM-Event-Id"] == event_id
    assert headers_of(second_try)["X-CRM-Delivery-Attempt"] == "2"
    assert verify(secret, headers_of(second_try), second_try.body)


def test_after_the_last_attempt_it_fails_with_the_reason_and_the_managers_retry_sends_it(session, http_recorder,
                                                                                          receiver):
    endpoint, secret, _ = receiver
    save_settings(session, max_attempts=2)
    session.commit()
    http_recorder.respond(503, {"error": "maintenance"})
    http_recorder.respond(404, text="no such hook")
    assert deliver(session, now=NOW).retrying == 1
    assert deliver(session, now=NOW + timedelta(minutes=2)).failed == 1
    [row] = deliveries(session)
    assert (row.status, row.attempts, row.response_status) == ("failed", 2, 404)
    assert row.last_error == "HTTP 404: no such hook"
    assert deliver(session, now=NOW + timedelta(days=1)).claimed == 0  # failed stays failed

    assert service.retry_delivery(session, endpoint, row.id, actor=None, now=NOW + timedelta(days=1))
    session.commit()
    assert not service.retry_delivery(session, endpoint, row.id, actor=None)  # only a failed one
    assert deliver(session, now=NOW + timedelta(days=1)).sent == 1
    [row] = deliveries(session)
    assert (row.status, row.attempts) == ("sent", 1)
    assert len(http_recorder.requests) == 3 and verify(secret, headers_of(http_recorder.requests[-1]),
                                                       http_recorder.requests[-1].body)


def test_a_redirect_is_not_followed(session, http_recorder, receiver):
    http_recorder.respond(301, text="moved")
    assert deliver(session, now=NOW).retrying == 1
    assert len(http_recorder.requests) == 1
    assert deliveries(session)[0].last_error.startswith("HTTP 301")


def test_no_server_and_a_silent_server_are_retried_with_the_reason(app, session, unused_port, silent_port,
                                                                     monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_TIMEOUT_SECONDS", 0.3)
    add_endpoint(session, url=f"http://127.0.0.1:{unused_port}/down", events=["sale.paid"])
    add_endpoint(session, url=f"http://127.0.0.1:{silent_port}/silent", events=["sale.paid"])
    events.emit(session, "sale.paid", {"sale": {"id": 1}}, now=NOW)
    session.commit()
    assert deliver(session, now=NOW).retrying == 2
    down, silent = deliveries(session)
    assert down.status == "pending" and down.last_error.startswith("No answer:") and down.response_status is None
    assert silent.status == "pending" and silent.last_error == "No answer: timed out"


def test_a_new_secret_signs_the_deliveries_still_waiting(session, http_recorder, receiver):
    endpoint, old_secret, _ = receiver
    new_secret = service.rotate_secret(session, endpoint, actor=None)
    session.commit()
    assert new_secret != old_secret and new_secret.startswith("whsec_")
    deliver(session, now=NOW)
    [request] = http_recorder.requests
    assert verify(new_secret, headers_of(request), request.body)
    assert not verify(old_secret, headers_of(request), request.body)


def test_a_switched_off_or_deleted_endpoint_fails_its_waiting_deliveries_with_the_reason(session, http_recorder,
                                                                                          receiver):
    endpoint, _, _ = receiver
    endpoint.active = False
    session.commit()
    assert deliver(session, now=NOW).failed == 1
    assert deliveries(session)[0].last_error == "The endpoint is switched off."
    assert http_recorder.requests == []
    service.delete_endpoint(session, endpoint, actor=None)
    session.commit()
    assert deliveries(session) == []


def test_the_job_sends_everything_due(session, http_recorder, receiver):
    assert deliver_webhooks(session, NOW) == "delivered 1, retrying 0, failed 0"
    assert json.loads(http_recorder.requests[0].body)["type"] == "order.ready"
