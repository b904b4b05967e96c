"""Schemathesis (property-based API testing from the OpenAPI document) against the app on the test database,
SQLite or PostgreSQL: for every documented operation, generated requests with a token of each role get no 5xx,
every response matches the document (status, content type, schema, headers), and no endpoint is left out."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import select

from crm.api import tokens
from crm.api.models import TokenRole
from crm.database import utcnow
from crm.extensions import db
from crm.loyalty import accounts
from crm.sales.models import SaleLine
from crm.sales.refunds import RefundRequest
from tests import factories
from tests.factories import sales as sale_factories

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


@pytest.fixture
def api_schema(app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


@pytest.fixture
def role_headers(app) -> dict[str, dict]:
    """A token for every role, and a customer, a member's ledger, an order, a catalogue item in stock, a paid sale and
    its refund to find (ids 1 and up)."""
    with app.app_context():
        customer = factories.customer()
        accounts.enrol(db.session, customer)
        factories.order(customer)
        desk = sale_factories.staff_member(db.session)
        item = sale_factories.new_item(db.session, on_hand=50)
        sale = sale_factories.paid_sale(db.session, desk, [(item, 3)])
        line_id = db.session.scalar(select(SaleLine.id).where(SaleLine.sale_id == sale.id))
        sale_factories.give_back(db.session, sale.id, [RefundRequest(line_id, 1)], actor=desk)
        headers = {}
        for role in TokenRole:
            _, secret = tokens.create_token(db.session, name=f"schemathesis {role}", role=role, expires_at=None,
                                            actor=None, now=utcnow())
            headers[role] = {"Authorization": f"Bearer {secret}"}
        db.session.commit()
        db.session.remove()
    return headers


def _operations(api_schema):
    return [result.ok() for result in api_schema.get_all_operations()]


def test_every_operation_answers_as_documented_for_every_role(api_schema, role_headers, app, monkeypatch):
    """Hypothesis drives schemathesis' strategy for each operation (its pytest plugin's parametrize does not run
    under this pytest); every generated request is sent once with each role's token and validated."""
    monkeypatch.setitem(app.config, "API_RATE_LIMIT", "1000000 per minute")
    for operation in _operations(api_schema):
        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def check(case):
            # A write's body can be valid JSON for the document and still break a shop rule (a phone number
            # that is not one): its 422 is checked for shape, not counted as a valid request refused.
            excluded = [positive_data_acceptance] if case.body is not None else []
            for headers in role_headers.values():
                case.call_and_validate(headers=headers, excluded_checks=excluded)

        check()


def test_the_run_covers_every_api_endpoint(app, api_schema):
    documented = {(op.path, op.method.upper()) for op in _operations(api_schema)}
    routed = {(rule.rule.replace("<int:", "{").replace(">", "}"), method)
              for rule in app.url_map.iter_rules() if rule.endpoint.startswith("api_v1.")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routed == documented
