"""Writes through the API: the desk's rules and messages (422 on the field), the token's role, the change log with
the token's name, body size limits, and the Idempotency-Key: the same key and body replay the first answer, another
body is 409, and calls with one key sent at once have one effect."""

import threading

import pytest
from sqlalchemy import func, select

from crm.api import tokens
from crm.audit import AuditEntry
from crm.customers.models import Customer
from crm.database import utcnow
from crm.extensions import db

BODY = {"name": "Iryna API", "phone": "067 115 0001", "marketing_consent": True}


def _token(app, role="front_desk") -> dict:
    with app.app_context():
        _, secret = tokens.create_token(db.session, name=f"Website {role}", role=role, expires_at=None,
                                        actor=None, now=utcnow())
        db.session.commit()
        db.session.remove()
    return {"Authorization": f"Bearer {secret}"}


def _customers(app) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Customer))
        db.session.remove()
    return count


def test_a_desk_token_registers_a_customer_with_consents_and_it_is_logged(app, client):
    response = client.post("/api/v1/customers", json=BODY, headers=_token(app))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["phone"], body["marketing_consent"], body["service_consent"]) == ("+380671150001", True, True)
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.subject == f"customer:{body['id']}"))
        assert entry.new_value == "Website front_desk"
        db.session.remove()


@pytest.mark.parametrize("role", ["read_only", "technician"])
def test_a_token_without_the_desks_role_may_not_register(app, client, role):
    response = client.post("/api/v1/customers", json=BODY, headers=_token(app, role))
    assert response.status_code == 403 and response.mimetype == "application/problem+json"
    assert _customers(app) == 0


@pytest.mark.parametrize(("body", "field", "message"), [
    ({**BODY, "phone": "12"}, "phone", "This phone number is not valid for its country."),
    ({**BODY, "name": ""}, "name", None), ({"phone": "0671150001"}, "name", None),
    ({**BODY, "birthday": "1990-13-01"}, "birthday", None), ({**BODY, "language": "de"}, "language", None)])
def test_bad_input_is_a_422_naming_the_field_with_the_desks_message(app, client, body, field, message):
    response = client.post("/api/v1/customers", json=body, headers=_token(app))
    assert response.status_code == 422, response.get_json()
    errors = response.get_json()["errors"]
    assert field in errors, errors
    if message:
        assert errors[field] == [message]
    assert _customers(app) == 0


def test_a_known_phone_is_refused_on_its_field(app, client):
    headers = _token(app)
    assert client.post("/api/v1/customers", json=BODY, headers=headers).status_code == 201
    again = client.post("/api/v1/customers", json={**BODY, "name": "Someone else"}, headers=headers)
    assert again.status_code == 422
    assert again.get_json()["errors"]["phone"] == ["A customer with this phone number already exists."]


def test_bodies_that_are_not_json_or_too_large_are_refused(app, client):
    headers = _token(app)
    assert client.post("/api/v1/customers", data="name=x", headers=headers,
                       content_type="application/x-www-form-urlencoded").status_code in (415, 422)
    huge = {**BODY, "name": "x" * (70 * 1024)}
    assert client.post("/api/v1/customers", json=huge, headers=headers).status_code == 413
    assert _customers(app) == 0


def test_the_same_key_replays_and_another_body_with_it_is_409(app, client):
    headers = {**_token(app), "Idempotency-Key": "order-form-7f3a"}
    first = client.post("/api/v1/customers", json=BODY, headers=headers)
    again = client.post("/api/v1/customers", json=BODY, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json() and again.headers["Idempotent-Replayed"] == "true"
    other = client.post("/api/v1/customers", json={**BODY, "name": "Changed"}, headers=headers)
    assert other.status_code == 409 and other.mimetype == "application/problem+json"
    assert _customers(app) == 1


def test_a_refused_call_keeps_nothing_so_the_fixed_one_may_use_the_key(app, client):
    headers = {**_token(app), "Idempotency-Key": "retry-me"}
    assert client.post("/api/v1/customers", json={**BODY, "phone": "12"}, headers=headers).status_code == 422
    assert client.post("/api/v1/customers", json=BODY, headers=headers).status_code == 201


@pytest.mark.parametrize("key", ["", " ", "x" * 101, "a\x01b"])
def test_a_bad_key_is_a_400(app, client, key):
    response = client.post("/api/v1/customers", json=BODY, headers={**_token(app), "Idempotency-Key": key})
    assert response.status_code == 400 and _customers(app) == 0


def test_calls_sent_at_once_with_one_key_have_one_effect(app):
    headers = {**_token(app), "Idempotency-Key": "double-click"}
    barrier, answers = threading.Barrier(6), []

    def call():
        client = app.test_client()
        barrier.wait()
        response = client.post("/api/v1/customers", json=BODY, headers=headers)
        answers.append((response.status_code, response.get_json()["id"]))

    threads = [threading.Thread(target=call) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert {status for status, _ in answers} == {201}
    assert len({customer_id for _, customer_id in answers}) == 1
    assert _customers(app) == 1


def _created(app, client, headers) -> int:
    return client.post("/api/v1/customers", json=BODY, headers=headers).get_json()["id"]


def test_a_desk_token_changes_details_and_consents_and_the_history_says_api(app, client):
    from crm.customers.consent import consent_history

    headers = _token(app)
    customer_id = _created(app, client, headers)
    response = client.patch(f"/api/v1/customers/{customer_id}", json={"marketing_consent": False,
                                                                      "email": "iryna@example.com"},
                            headers=headers)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["marketing_consent"], body["email"], body["name"]) == (False, "iryna@example.com", "Iryna API")
    with app.app_context():
        latest = consent_history(db.session, customer_id)[0]
        assert (latest["consent"], latest["granted"], latest["source"]) == ("marketing", False, "api")
        db.session.remove()


def test_a_change_is_refused_on_its_field_and_changes_nothing(app, client):
    headers = _token(app)
    customer_id = _created(app, client, headers)
    refused = client.patch(f"/api/v1/customers/{customer_id}", json={"phone": "12", "name": "New"},
                           headers=headers)
    assert refused.status_code == 422 and "phone" in refused.get_json()["errors"]
    assert client.get(f"/api/v1/customers/{customer_id}", headers=headers).get_json()["name"] == "Iryna API"
    assert client.patch("/api/v1/customers/999999", json={"name": "x"}, headers=headers).status_code == 404
    read_only = _token(app, "read_only")
    assert client.patch(f"/api/v1/customers/{customer_id}", json={"name": "x"}, headers=read_only).status_code == 403
