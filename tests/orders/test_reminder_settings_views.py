"""The manager's reminder settings page (Messages, Reminders): what it shows, what it saves, what it refuses."""

import pytest
from sqlalchemy import select

from crm.audit import AuditEntry
from crm.loyalty.models import CouponTemplate
from crm.orders import reminders
from crm.orders.device import REPAIR_KINDS
from tests.conftest import csrf_token
from tests.helpers import FormPage, app_session

URL = "/orders/reminder-settings"


def valid_form(token, **changes) -> dict:
    data = {"csrf_token": token, "warranty_enabled": "y", "warranty_days_before": "14"}
    for kind in REPAIR_KINDS:
        data.update({f"{kind}_months": str(reminders.SUGGESTED_MONTHS[kind]), f"{kind}_coupon": ""})
    data.update(changes)
    return {name: value for name, value in data.items() if value is not None}


@pytest.fixture
def template_id(app):
    with app_session(app) as session:
        template = CouponTemplate(name="Check-up 10%", kind="percent", value=1000, categories="repair_labour",
                                  min_bill_minor=0, validity_days=30, active=True)
        session.add(template)
        session.flush()
        return template.id


@pytest.fixture
def manager_token(auth, client):
    auth.login("manager")
    return csrf_token(client, URL)


def test_the_page_is_in_the_messages_navigation_and_shows_the_defaults(client, manager_token):
    outbox = client.get("/notifications/").get_data(as_text=True)
    assert f'href="{URL}"' in outbox
    page = FormPage(client.get(URL).get_data(as_text=True))
    assert page.values["warranty_enabled"] is True and page.values["warranty_days_before"] == "14"
    assert page.values["battery_enabled"] is False and page.values["liquid_damage_months"] == "1"


def test_the_manager_switches_a_kind_on_with_a_coupon_and_the_change_is_audited(app, client, manager_token,
                                                                               template_id):
    response = client.post(URL, data=valid_form(manager_token, warranty_days_before="10", battery_enabled="y",
                                                battery_months="18", battery_coupon=str(template_id)))
    assert response.status_code == 302
    with app_session(app) as session:
        assert reminders.get_reminder_settings(session).warranty_days_before == 10
        battery = reminders.checkup_rules(session)["battery"]
        assert (battery.enabled, battery.months, battery.coupon_template_id) == (True, 18, template_id)
        assert not reminders.checkup_rules(session)["screen"].enabled
        trail = {(e.subject, e.field, e.new_value) for e in session.scalars(select(AuditEntry))}
        assert ("checkup:battery", "months", "18") in trail and ("reminders", "warranty_days_before", "10") in trail
    page = FormPage(client.get(URL).get_data(as_text=True))
    assert page.values["battery_enabled"] is True and page.values["battery_coupon"] == str(template_id)


@pytest.mark.parametrize(("changes", "field"), [
    ({"warranty_days_before": "0"}, "warranty_days_before"),
    ({"warranty_days_before": ""}, "warranty_days_before"),
    ({"battery_enabled": "y", "battery_months": ""}, "battery_months"),
    ({"battery_months": "61"}, "battery_months"),
    ({"battery_months": "٣"}, "battery_months"),
    ({"battery_coupon": "999999"}, "battery_coupon"),
])
def test_bad_values_are_refused_at_their_field_and_the_rest_is_kept(app, client, manager_token, changes, field):
    typed = valid_form(manager_token, screen_months="7", **changes)
    response = client.post(URL, data=typed)
    assert response.status_code == 422
    page = FormPage(response.get_data(as_text=True))
    assert list(page.errors) == [field]
    assert page.values["screen_months"] == "7"
    with app_session(app) as session:
        assert reminders.checkup_rules(session) == {}


def test_a_post_without_the_csrf_token_changes_nothing(app, client, manager_token):
    response = client.post(URL, data=valid_form("", warranty_days_before="30"))
    assert response.status_code in (400, 422)
    with app_session(app) as session:
        assert reminders.get_reminder_settings(session).warranty_days_before == 14


@pytest.mark.parametrize("role", ["technician", "front_desk"])
def test_only_the_manager_may_change_the_reminders(app, auth, client, role):
    auth.login(role)
    token = csrf_token(client, "/account/password")
    assert client.get(URL).status_code == 403
    assert client.post(URL, data=valid_form(token, warranty_days_before="30")).status_code == 403
    with app_session(app) as session:
        assert session.get(reminders.ReminderSettings, 1) is None
