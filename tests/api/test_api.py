"""/api/v1 from outside: a token or 401, RFC 9457 problems for every error with the field errors, cursor pages
that neither repeat nor skip rows while others are added, a generated OpenAPI 3.1 document that lists every
endpoint, and a rate limit per token."""

import pytest
from sqlalchemy import select

from crm.api import tokens
from crm.api.models import ApiToken
from crm.database import utcnow
from crm.extensions import db
from crm.loyalty import accounts
from tests import factories


@pytest.fixture
def token(app):
    with app.app_context():
        _, secret = tokens.create_token(db.session, name="Test program", role="read_only", expires_at=None,
                                        actor=None, now=utcnow())
        db.session.commit()
        db.session.remove()
    return {"Authorization": f"Bearer {secret}"}


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["title"]
    return body


def _customer(app, **kwargs) -> int:
    with app.app_context():
        customer = factories.customer(**kwargs)
        db.session.commit()
        customer_id = customer.id
        db.session.remove()
    return customer_id


@pytest.mark.parametrize("header", [None, "Bearer crm_nope", "Basic dXNlcjpwYXNz"])
def test_without_a_valid_token_every_endpoint_answers_401(client, header):
    headers = {"Authorization": header} if header else {}
    for path in ("/api/v1/orders", "/api/v1/customers/1", "/api/v1/sales", "/api/v1/catalogue/items"):
        response = client.get(path, headers=headers)
        _problem(response, 401)
        assert response.headers["WWW-Authenticate"].lower().startswith("bearer")


def test_a_staff_login_is_not_a_token(client, auth):
    auth.login("manager")
    _problem(client.get("/api/v1/orders"), 401)


def test_a_revoked_token_is_refused_at_once(app, client, token):
    assert client.get("/api/v1/orders", headers=token).status_code == 200
    with app.app_context():
        row = db.session.scalar(select(ApiToken))
        tokens.revoke(db.session, row, actor=None, now=utcnow())
        db.session.commit()
        db.session.remove()
    _problem(client.get("/api/v1/orders", headers=token), 401)


def test_a_customer_and_their_loyalty(app, client, token):
    customer_id = _customer(app, name="Olena API", phone="+380671140001")
    body = client.get(f"/api/v1/customers/{customer_id}", headers=token).get_json()
    assert (body["name"], body["phone"]) == ("Olena API", "+380671140001")
    assert client.get(f"/api/v1/customers/{customer_id}/loyalty", headers=token).get_json()["member"] is False
    with app.app_context():
        from crm.customers.models import Customer

        accounts.enrol(db.session, db.session.get(Customer, customer_id))
        db.session.commit()
        db.session.remove()
    loyalty = client.get(f"/api/v1/customers/{customer_id}/loyalty", headers=token).get_json()
    assert loyalty["member"] is True and loyalty["tier"]
    ledger = client.get(f"/api/v1/customers/{customer_id}/ledger", headers=token).get_json()
    assert sum(entry["points"] for entry in ledger["items"]) == loyalty["balance"]


def test_unknown_things_are_404_problems(client, token):
    assert _problem(client.get("/api/v1/customers/999999", headers=token), 404)["detail"]
    _problem(client.get("/api/v1/orders/999999", headers=token), 404)
    _problem(client.get("/api/v1/no-such-thing", headers=token), 404)


@pytest.mark.parametrize(("query", "field"), [
    ("limit=0", "limit"), ("limit=abc", "limit"), ("limit=999", "limit"), ("status=lost", "status"),
    ("updated_since=yesterday", "updated_since"), ("technician_id=-1", "technician_id"),
    ("cursor=%00%01", "cursor"), ("cursor=-5", "cursor"), ("cursor=abc", "cursor"), ("cursor=1e5", "cursor")])
def test_bad_query_values_are_422_problems_naming_the_field(client, token, query, field):
    body = _problem(client.get(f"/api/v1/orders?{query}", headers=token), 422)
    assert field in body["errors"], body


def test_cursor_pages_neither_repeat_nor_skip_while_orders_are_added(app, client, token):
    with app.app_context():
        customer = factories.customer()
        first = [factories.order(customer).id for _ in range(5)]
        db.session.commit()
        db.session.remove()
    seen, cursor = [], None
    for round_ in range(10):
        url = "/api/v1/orders?limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url, headers=token).get_json()
        seen += [order["id"] for order in body["items"]]
        if round_ == 0:  # two more orders arrive while the client pages
            with app.app_context():
                added = [factories.order(factories.customer()).id for _ in range(2)]
                db.session.commit()
                db.session.remove()
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(set(seen)) and set(first + added) == set(seen)


def test_orders_filter_by_status_and_change_time(app, client, token):
    with app.app_context():
        order = factories.order()
        db.session.commit()
        order_id, since = order.id, order.updated_at.isoformat()
        db.session.remove()
    assert [o["id"] for o in client.get("/api/v1/orders?status=received", headers=token).get_json()["items"]] == [
        order_id]
    assert client.get("/api/v1/orders?status=ready", headers=token).get_json()["items"] == []
    from urllib.parse import quote

    assert len(client.get(f"/api/v1/orders?updated_since={quote(since)}", headers=token).get_json()["items"]) == 1
    detail = client.get(f"/api/v1/orders/{order_id}", headers=token).get_json()
    assert detail["status"] == "received" and detail["lines"] == []


def test_the_openapi_document_is_3_1_and_lists_every_endpoint(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    documented = {(path, method.upper()) for path, item in document["paths"].items() for method in item
                  if method != "parameters"}
    routed = {(rule.rule.replace("<int:", "{").replace(">", "}"), method)
              for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api_v1.")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routed and routed == documented
    assert document["components"]["securitySchemes"]["token"]["scheme"] == "bearer"


def test_the_rate_limit_is_per_token(app, client, token, monkeypatch):
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "3 per minute")
    statuses = [client.get("/api/v1/orders", headers=token).status_code for _ in range(4)]
    assert statuses[:3] == [200, 200, 200]
    _problem(client.get("/api/v1/orders", headers=token), 429)
    with app.app_context():
        _, other = tokens.create_token(db.session, name="Other", role="read_only", expires_at=None, actor=None,
                                       now=utcnow())
        db.session.commit()
        db.session.remove()
    assert client.get("/api/v1/orders", headers={"Authorization": f"Bearer {other}"}).status_code == 200
