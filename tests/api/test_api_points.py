"""The manager's points adjustment through the API: the customer page's service (a reason, the ledger only, never
below zero), a manager token only, the Idempotency-Key required so a retried or doubled call adjusts once."""

import pytest
from sqlalchemy import func, select

from crm.audit import AuditEntry
from crm.auth.models import StaffUser
from crm.loyalty import accounts
from crm.loyalty.models import Account, LedgerEntry
from crm.loyalty.program import get_program
from tests import factories
from tests.api.conftest import at_once


@pytest.fixture
def customer_id(committed):
    """A member with no points (the program's welcome bonus is switched off here)."""
    def build(session):
        get_program(session).welcome_bonus = 0
        customer = factories.customer(name="Oksana Points")
        accounts.enrol(session, customer)
        return customer.id

    return committed(build)


def _adjust(client, headers, customer_id, key="adjust-1", **body):
    body = {"points": 120, "reason": "Apology for the delay", **body}
    return client.post(f"/api/v1/customers/{customer_id}/points", json=body,
                       headers={**headers, **({"Idempotency-Key": key} if key else {})})


def _books(committed, customer_id):
    def read(session):
        account = session.scalar(select(Account).where(Account.customer_id == customer_id))
        entries = session.scalar(select(func.count()).select_from(LedgerEntry)
                                 .where(LedgerEntry.customer_id == customer_id))
        total = session.scalar(select(func.coalesce(func.sum(LedgerEntry.points), 0))
                               .where(LedgerEntry.customer_id == customer_id))
        return (account.balance if account else None), entries, total

    return committed(read)


def test_a_manager_token_adjusts_through_the_ledger_and_the_log_names_the_token(client, api_token, committed,
                                                                               customer_id):
    response = _adjust(client, api_token("manager", name="Accounting"), customer_id)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["kind"], body["points"], body["balance_after"], body["reason"]) == (
        "adjust", 120, 120, "Apology for the delay")
    assert _books(committed, customer_id) == (120, 1, 120)

    def check(session):
        entry = session.get(LedgerEntry, body["id"])
        author = session.get(StaffUser, entry.author_id)
        audit = session.scalar(select(AuditEntry).where(AuditEntry.action == "adjust"))
        return author.full_name, author.role, author.is_api_actor, audit.area, audit.actor_id == author.id

    assert committed(check) == ("Accounting", "manager", True, "points", True)


@pytest.mark.parametrize("role", ["read_only", "technician", "front_desk"])
def test_only_a_manager_token_adjusts(client, api_token, committed, customer_id, role):
    response = _adjust(client, api_token(role), customer_id)
    assert response.status_code == 403 and response.mimetype == "application/problem+json"
    assert _books(committed, customer_id) == (0, 0, 0)


@pytest.mark.parametrize(("body", "field", "message"), [
    ({"reason": "   "}, "reason", "Say why the points are adjusted."),
    ({"points": 0}, "points", "Enter the points to add (positive) or take away (negative)."),
    ({"points": -5}, "points", "Only 0 points are available."),
    ({"points": 10**9}, "points", None),
    ({"points": "many"}, "points", None),
    ({"reason": None}, "reason", None),
    ({"reason": "x" * 501}, "reason", None),
])
def test_a_refused_adjustment_is_a_422_naming_the_field_and_changes_nothing(client, api_token, committed,
                                                                           customer_id, body, field, message):
    response = _adjust(client, api_token("manager"), customer_id, **body)
    assert response.status_code == 422, response.get_json()
    errors = response.get_json()["errors"]
    assert field in errors, errors
    if message:
        assert errors[field] == [message]
    assert _books(committed, customer_id) == (0, 0, 0)


def test_a_balance_never_goes_below_zero(client, api_token, committed, customer_id):
    headers = api_token("manager")
    assert _adjust(client, headers, customer_id, key="up", points=50).status_code == 201
    refused = _adjust(client, headers, customer_id, key="down", points=-51)
    assert refused.get_json()["errors"]["points"] == ["Only 50 points are available."]
    assert _adjust(client, headers, customer_id, key="down", points=-50).status_code == 201
    assert _books(committed, customer_id) == (0, 2, 0)


def test_without_a_key_nothing_is_adjusted(client, api_token, committed, customer_id):
    response = _adjust(client, api_token("manager"), customer_id, key=None)
    assert response.status_code == 400 and "Idempotency-Key" in response.get_json()["detail"]
    assert _books(committed, customer_id) == (0, 0, 0)


def test_unknown_and_erased_customers_are_404(client, api_token, committed, customer_id):
    from crm.customers.models import Customer
    from crm.database import utcnow

    headers = api_token("manager")
    assert _adjust(client, headers, 999999).status_code == 404
    committed(lambda session: setattr(session.get(Customer, customer_id), "erased_at", utcnow()))
    assert _adjust(client, headers, customer_id).status_code == 404


def test_a_retried_adjustment_adjusts_once(client, api_token, committed, customer_id):
    headers = api_token("manager")
    first, again = _adjust(client, headers, customer_id), _adjust(client, headers, customer_id)
    assert first.status_code == again.status_code == 201 and again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert _adjust(client, headers, customer_id, points=121).status_code == 409
    assert _books(committed, customer_id) == (120, 1, 120)
    assert committed(lambda session: session.scalar(select(func.count()).select_from(AuditEntry)
                                                    .where(AuditEntry.action == "adjust"))) == 1


def test_adjustments_sent_at_once_with_one_key_adjust_once(app, api_token, committed, customer_id):
    headers = api_token("manager")
    answers = at_once(app, 6, lambda client: _adjust(client, headers, customer_id, key="double-click"))
    assert {status for status, _ in answers} == {201}
    assert len({body["id"] for _, body in answers}) == 1
    assert _books(committed, customer_id) == (120, 1, 120)
