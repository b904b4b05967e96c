"""The kind of repair on the order form: picked at intake or later, kept when the form is refused, one of the
shop's kinds or "not known yet". The check-up reminder is set per kind (tests/orders/test_reminders.py)."""

import pytest
from sqlalchemy import select

from crm.orders import service
from crm.orders.device import REPAIR_KINDS
from crm.orders.models import RepairOrder
from tests import factories
from tests.conftest import csrf_token
from tests.helpers import FormPage, app_session
from tests.orders.test_order_views import intake_form


@pytest.fixture
def token(client, auth):
    auth.login("front_desk")
    return csrf_token(client, "/customers")


@pytest.fixture
def customer_id(app):
    with app_session(app):
        return factories.customer().id


def test_the_desk_picks_the_kind_of_repair_at_intake(app, client, token, customer_id):
    form = client.get(f"/orders/new?customer_id={customer_id}").get_data(as_text=True)
    assert 'name="repair_kind"' in form and "Liquid damage" in form
    response = client.post(f"/orders/new?customer_id={customer_id}", data=intake_form(token, repair_kind="battery"))
    assert response.status_code == 302
    with app_session(app) as session:
        assert session.scalar(select(RepairOrder.repair_kind)) == "battery"


def test_the_kind_may_stay_unknown(app, client, token, customer_id):
    response = client.post(f"/orders/new?customer_id={customer_id}", data=intake_form(token, repair_kind=""))
    assert response.status_code == 302
    with app_session(app) as session:
        assert session.scalar(select(RepairOrder.repair_kind)) == ""


def test_the_edit_form_shows_the_kind_and_changes_it(app, client, token):
    with app_session(app):
        order_id = factories.order(repair_kind="screen").id
    page = FormPage(client.get(f"/orders/{order_id}/edit").get_data(as_text=True))
    assert page.values["repair_kind"] == "screen"
    response = client.post(f"/orders/{order_id}/edit", data=intake_form(token, repair_kind="liquid_damage"))
    assert response.status_code == 302
    with app_session(app) as session:
        assert session.get(RepairOrder, order_id).repair_kind == "liquid_damage"


def test_an_unknown_kind_is_refused_at_the_field_and_the_rest_is_kept(app, client, token, customer_id):
    response = client.post(f"/orders/new?customer_id={customer_id}", data=intake_form(token, repair_kind="engine"))
    assert response.status_code in (200, 422)
    page = FormPage(response.get_data(as_text=True))
    assert list(page.errors) == ["repair_kind"]
    assert page.values["brand"] == "Samsung"
    with app_session(app) as session:
        assert session.scalar(select(RepairOrder)) is None


def test_the_service_refuses_a_kind_the_shop_does_not_have(session):
    customer = factories.customer()
    with pytest.raises(service.OrderError) as refused:
        factories.order(customer, repair_kind="engine")
    assert refused.value.field == "repair_kind"
    assert factories.order(customer, repair_kind="charging_port").repair_kind == "charging_port"
    assert set(REPAIR_KINDS) == {"screen", "battery", "liquid_damage", "charging_port", "software", "other"}
