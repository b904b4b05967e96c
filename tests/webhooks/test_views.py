"""The manager's Webhooks page through the test client: manager only, CSRF, validation next to the field with what
was typed kept, the secret shown once, recent deliveries with their reason and a Retry button, the audit log."""

import re

import pytest
from sqlalchemy import select

from crm.audit import AuditEntry
from crm.extensions import db
from crm.webhooks import events
from crm.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.conftest import csrf_token
from tests.helpers import FormPage, app_session
from tests.webhooks.conftest import add_endpoint

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


def _form(url="https://hooks.example.test/in", events=("order.ready", "sale.paid"), **extra):
    return {"url": url, "events": list(events), "description": "Accounting", "active": "y", **extra}


def _endpoints(app):
    with app.app_context():
        rows = [(e.id, e.url, e.event_codes, e.active, e.secret) for e in db.session.scalars(
            select(WebhookEndpoint).order_by(WebhookEndpoint.id))]
        db.session.remove()
    return rows


@pytest.mark.parametrize("role", ["technician", "front_desk"])
def test_only_a_manager_sees_or_changes_webhooks(app, auth, client, role):
    with app_session(app) as session:
        endpoint_id = add_endpoint(session)[0].id
    auth.login(role)
    assert client.get("/webhooks").status_code == 403
    token = csrf_token(client, "/account/password")
    assert client.post("/webhooks", data={**_form(), "csrf_token": token}).status_code == 403
    assert client.post(f"/webhooks/{endpoint_id}/delete", data={"csrf_token": token}).status_code == 403
    assert client.post(f"/webhooks/{endpoint_id}/secret", data={"csrf_token": token}).status_code == 403
    assert len(_endpoints(app)) == 1
    assert "/webhooks" not in client.get("/orders").get_data(as_text=True)


def test_the_manager_adds_an_endpoint_and_sees_its_secret_once(app, auth, client):
    auth.login("manager")
    assert 'href="/webhooks"' in client.get("/orders").get_data(as_text=True)  # in the navigation
    token = csrf_token(client, "/webhooks")
    response = client.post("/webhooks", data={**_form(), "csrf_token": token})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    [(endpoint_id, url, codes, active, secret)] = _endpoints(app)
    assert (url, codes, active) == ("https://hooks.example.test/in", ["order.ready", "sale.paid"], True)
    assert secret in html and "not shown again" in html
    assert secret not in client.get("/webhooks").get_data(as_text=True)
    assert secret not in client.get(f"/webhooks/{endpoint_id}").get_data(as_text=True)
    with app.app_context():
        audit = db.session.scalars(select(AuditEntry).where(AuditEntry.area == "webhooks")).all()
        assert [(a.action, a.subject) for a in audit] == [("create", f"webhook:{endpoint_id}")]
        assert secret not in audit[0].new_value
        db.session.remove()


def test_a_form_without_its_csrf_token_changes_nothing(app, auth, client):
    auth.login("manager")
    response = client.post("/webhooks", data=_form())
    assert response.status_code == 400  # CSRFProtect refuses it before the view
    assert _endpoints(app) == []


@pytest.mark.parametrize(("data", "field", "message"), [
    (_form(url=""), "url", "Enter the address that receives the events."),
    (_form(url="ftp://hooks.example.test/in"), "url", "Enter an absolute address"),
    (_form(url="http://hooks.example.test/in"), "url", "must start with https://"),
    (_form(url="https://user:pw@hooks.example.test/in"), "url", "Leave the user name and password out"),
    (_form(url="https://[::1/in"), "url", "Enter an absolute address"),
    (_form(url="https://hooks.example.test:99999/in"), "url", "Enter an absolute address"),
    (_form(events=()), "events", "Choose at least one event."),
    (_form(events=("order.ready", "order.deleted")), "events", "is not a valid choice"),
])
def test_a_bad_form_is_shown_again_with_the_error_at_its_field_and_what_was_typed(app, auth, client, data, field,
                                                                                   message):
    auth.login("manager")
    token = csrf_token(client, "/webhooks")
    response = client.post("/webhooks", data={**data, "csrf_token": token})
    page = FormPage(response.get_data(as_text=True))
    assert response.status_code == 422
    assert any(message in error for error in page.errors.get(field, [])), page.errors
    assert page.values["url"] == data["url"] and page.values["description"] == "Accounting"
    assert _endpoints(app) == []


def test_http_is_allowed_to_loopback_outside_production_only(app, auth, client, monkeypatch):
    auth.login("manager")
    token = csrf_token(client, "/webhooks")
    assert "plain http:// is allowed to this computer" in client.get("/webhooks").get_data(as_text=True)
    assert client.post("/webhooks", data={**_form(url="http://127.0.0.1:8001/hook"), "csrf_token": token}
                       ).status_code == 200
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_HTTP_LOOPBACK", False)  # what ProductionConfig says
    response = client.post("/webhooks", data={**_form(url="http://localhost:8001/hook"), "csrf_token": token})
    assert response.status_code == 422 and "must start with https://" in response.get_data(as_text=True)
    assert len(_endpoints(app)) == 1


def test_the_manager_edits_switches_off_rotates_and_deletes(app, auth, client):
    with app_session(app) as session:
        endpoint, first_secret = add_endpoint(session)
        endpoint_id = endpoint.id
    auth.login("manager")
    page = FormPage(client.get(f"/webhooks/{endpoint_id}").get_data(as_text=True))
    assert page.values["url"] == "https://hooks.example.test/crm" and page.values["active"] is True
    token = csrf_token(client, f"/webhooks/{endpoint_id}")
    response = client.post(f"/webhooks/{endpoint_id}", data={"url": "https://new.example.test/in",
                                                            "events": ["points.changed"], "csrf_token": token})
    assert response.status_code == 302
    [(_, url, codes, active, secret)] = _endpoints(app)
    assert (url, codes, active, secret) == ("https://new.example.test/in", ["points.changed"], False, first_secret)

    response = client.post(f"/webhooks/{endpoint_id}/secret", data={"csrf_token": token})
    [(_, _, _, _, new_secret)] = _endpoints(app)
    assert response.status_code == 200 and new_secret != first_secret and new_secret in response.get_data(as_text=True)

    assert client.post(f"/webhooks/{endpoint_id}/delete", data={"csrf_token": token}).status_code == 302
    assert _endpoints(app) == []
    with app.app_context():
        audit = [(a.action, a.field) for a in db.session.scalars(
            select(AuditEntry).where(AuditEntry.area == "webhooks").order_by(AuditEntry.id))]
        db.session.remove()
    assert audit == [("create", ""), ("change", "url"), ("change", "events"), ("change", "active"),
                     ("new_secret", ""), ("delete", "")]


def test_recent_deliveries_show_status_attempts_and_reason_and_a_failed_one_can_be_retried(app, auth, client):
    with app_session(app) as session:
        endpoint, _ = add_endpoint(session)
        events.emit(session, "order.ready", {"order": {"id": 1}})
        events.emit(session, "sale.paid", {"sale": {"id": 2}})
        failed, waiting = session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id)).all()
        failed.status, failed.attempts, failed.last_error, failed.response_status = "failed", 6, "HTTP 500: oops", 500
        endpoint_id, failed_id, waiting_id = endpoint.id, failed.id, waiting.id
    auth.login("manager")
    listed = re.search(rf'<tr id="endpoint-{endpoint_id}">.*?</tr>', client.get("/webhooks").get_data(as_text=True),
                       re.S).group(0)
    assert "#deliveries" in listed and ">1</a>" in listed  # one failed delivery, linked
    html = client.get(f"/webhooks/{endpoint_id}").get_data(as_text=True)
    row = re.search(rf'<tr id="delivery-{failed_id}">.*?</tr>', html, re.S).group(0)
    assert "order.ready" in row and "Failed" in row and "HTTP 500: oops" in row and ">6<" in row and "Retry" in row
    assert "Retry" not in re.search(rf'<tr id="delivery-{waiting_id}">.*?</tr>', html, re.S).group(0)

    token = csrf_token(client, f"/webhooks/{endpoint_id}")
    assert client.post(f"/webhooks/{endpoint_id}/deliveries/{failed_id}/retry", data={}).status_code == 400
    with app.app_context():
        assert db.session.get(WebhookDelivery, failed_id).status == "failed"  # no CSRF token: nothing done
        db.session.remove()
    response = client.post(f"/webhooks/{endpoint_id}/deliveries/{failed_id}/retry", data={"csrf_token": token},
                           follow_redirects=True)
    assert "will be sent again" in response.get_data(as_text=True)
    with app.app_context():
        again = db.session.get(WebhookDelivery, failed_id)
        assert (again.status, again.attempts, again.last_error) == ("pending", 0, "")
        db.session.remove()
    response = client.post(f"/webhooks/{endpoint_id}/deliveries/{waiting_id}/retry", data={"csrf_token": token},
                           follow_redirects=True)
    assert "Only a failed delivery can be sent again." in response.get_data(as_text=True)


def test_a_delivery_of_another_endpoint_is_not_retried_through_this_one(app, auth, client):
    with app_session(app) as session:
        mine, _ = add_endpoint(session, events=["sale.paid"])
        theirs, _ = add_endpoint(session, url="https://other.example.test/x", events=["order.ready"])
        events.emit(session, "order.ready", {})
        delivery = session.scalar(select(WebhookDelivery))
        delivery.status = "failed"
        mine_id, delivery_id = mine.id, delivery.id
    auth.login("manager")
    token = csrf_token(client, f"/webhooks/{mine_id}")
    client.post(f"/webhooks/{mine_id}/deliveries/{delivery_id}/retry", data={"csrf_token": token})
    with app.app_context():
        assert db.session.get(WebhookDelivery, delivery_id).status == "failed"
        db.session.remove()


def test_an_unknown_endpoint_is_a_404(auth, client):
    auth.login("manager")
    assert client.get("/webhooks/424242").status_code == 404
