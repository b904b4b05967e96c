"""The loyalty section of the customer's page: enrolment, tier progress, history, referrer and the
manager's adjustment, through Flask's test client."""

import pytest
from sqlalchemy import func, select

from crm.auth.models import Role
from crm.extensions import db
from crm.loyalty import accounts, ledger
from crm.loyalty.models import Account, LedgerEntry
from tests import factories
from tests.conftest import csrf_token
from tests.helpers import FormPage, app_session

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


@pytest.fixture
def customer_id(app):
    with app_session(app):
        return factories.customer(name="Andriy Koval", phone="+380671230001").id


def test_a_non_member_is_enrolled_by_the_desk_and_gets_the_welcome_bonus(app, client, auth, customer_id):
    auth.login(Role.FRONT_DESK)
    page = client.get(f"/customers/{customer_id}").get_data(as_text=True)
    assert "Not in the loyalty program." in page
    response = client.post(f"/loyalty/customers/{customer_id}/enrol",
                           data={"csrf_token": csrf_token(client, f"/customers/{customer_id}")})
    assert response.status_code == 302
    page = client.get(f"/customers/{customer_id}").get_data(as_text=True)
    assert '<strong>50</strong>' in page and "Bronze" in page and "For Silver:" in page
    assert "Welcome to the loyalty program" in page


def test_the_manager_adjusts_points_with_a_reason_once_per_form(app, client, auth, customer_id):
    auth.login(Role.MANAGER)
    url = f"/customers/{customer_id}"
    values = FormPage(client.get(url).get_data(as_text=True)).values
    form = {"csrf_token": values["csrf_token"], "key": values["key"], "points": "20", "reason": "Goodwill"}
    assert client.post(f"/loyalty/customers/{customer_id}/adjust", data=form).status_code == 302
    assert client.post(f"/loyalty/customers/{customer_id}/adjust", data=form).status_code == 302  # posted twice
    with app.app_context():
        entries = db.session.scalars(select(LedgerEntry).where(LedgerEntry.kind == "adjust")).all()
        assert [(e.points, e.reason) for e in entries] == [(20, "Goodwill")] and entries[0].author_id is not None
        assert db.session.get(Account, customer_id).balance == 70


def test_an_adjustment_without_a_reason_or_below_zero_is_refused_and_keeps_what_was_typed(app, client, auth,
                                                                                          customer_id):
    auth.login(Role.MANAGER)
    url = f"/customers/{customer_id}"
    values = FormPage(client.get(url).get_data(as_text=True)).values
    response = client.post(f"/loyalty/customers/{customer_id}/adjust",
                           data={"csrf_token": values["csrf_token"], "key": values["key"], "points": "15",
                                 "reason": ""})
    assert response.status_code == 422 and 'value="15"' in response.get_data(as_text=True)
    response = client.post(f"/loyalty/customers/{customer_id}/adjust",
                           data={"csrf_token": values["csrf_token"], "key": values["key"], "points": "-500",
                                 "reason": "Typo"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "points are available" in page and 'value="Typo"' in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(LedgerEntry)
                                 .where(LedgerEntry.kind == "adjust")) == 0


def test_the_desk_cannot_adjust_points(client, auth, customer_id):
    auth.login(Role.FRONT_DESK)
    assert "Adjust points" not in client.get(f"/customers/{customer_id}").get_data(as_text=True)
    response = client.post(f"/loyalty/customers/{customer_id}/adjust",
                           data={"csrf_token": csrf_token(client, f"/customers/{customer_id}"), "key": "k",
                                 "points": "1000", "reason": "me"})
    assert response.status_code == 403


def test_the_desk_records_a_referrer_by_code_and_a_cycle_is_refused(app, client, auth, customer_id):
    with app_session(app) as session:
        friend = factories.customer(name="Friend", phone="+380671230002")
        code = accounts.enrol(session, friend).referral_code
        friend_id = friend.id
    auth.login(Role.FRONT_DESK)
    token = csrf_token(client, f"/customers/{customer_id}")
    response = client.post(f"/loyalty/customers/{customer_id}/referrer",
                           data={"csrf_token": token, "referred_by": code.lower()})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.get(Account, customer_id).referred_by_id == friend_id
    response = client.post(f"/loyalty/customers/{friend_id}/referrer",
                           data={"csrf_token": token, "referred_by": "+380671230001"})
    assert response.status_code == 422 and "referral cycle" in response.get_data(as_text=True)
    response = client.post(f"/loyalty/customers/{friend_id}/referrer",
                           data={"csrf_token": token, "referred_by": "NOBODY99"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "No customer has this referral code" in page and "NOBODY99" in page


def test_the_profile_costs_the_same_statements_for_a_short_and_a_long_history(app, client, auth, count_queries):
    with app_session(app) as session:
        short, long = factories.customer(), factories.customer()
        for customer, n in ((short, 3), (long, 30)):
            account = accounts.enrol(session, customer)
            for i in range(n):
                ledger.credit(session, account, "adjust", 5, key=f"h:{customer.id}:{i}", expiry_months=12)
        ids = short.id, long.id
    auth.login(Role.MANAGER)

    def statements(customer_id):
        client.get(f"/customers/{customer_id}")
        with count_queries() as counter:
            assert client.get(f"/customers/{customer_id}").status_code == 200
        return counter.count

    assert statements(ids[0]) == statements(ids[1])
