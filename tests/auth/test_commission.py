"""The commission rate on a staff account: set by a manager, validated, written to the change log."""

import pytest
from sqlalchemy import select

from crm.audit import AuditEntry
from crm.auth import service
from crm.auth.models import Role, StaffUser
from crm.extensions import db
from crm.forms_common import percent_text
from tests.auth.test_auth_views import add_staff, load_staff, staff_form_post
from tests.helpers import FormPage


def _user(session, role=Role.TECHNICIAN, name="olena") -> StaffUser:
    user = StaffUser(username=name, full_name=name.title(), role=role, password_hash="!unusable")
    session.add(user)
    session.flush()
    return user


def test_a_commission_change_is_written_to_the_change_log(session):
    manager, olena = _user(session, Role.MANAGER, "boss"), _user(session)
    assert olena.commission_basis_points == 0
    service.set_commission(session, olena, 1250, actor=manager)
    service.set_commission(session, olena, 1250, actor=manager)  # unchanged: nothing logged
    entries = session.scalars(select(AuditEntry).where(AuditEntry.field == "commission_basis_points")).all()
    assert [(e.subject, e.old_value, e.new_value, e.actor_id) for e in entries] == [
        ("staff:olena", "0", "1250", manager.id)]
    assert olena.commission_basis_points == 1250


@pytest.mark.parametrize("bad", [-1, 10_001])
def test_a_commission_outside_0_to_100_percent_is_refused(session, bad):
    olena = _user(session)
    with pytest.raises(service.AuthError) as refused:
        service.set_commission(session, olena, bad, actor=None)
    assert refused.value.field == "commission" and olena.commission_basis_points == 0


def test_percent_text_has_no_float():
    assert [percent_text(v) for v in (0, 5, 1000, 1250, 1234, 10_000)] == ["0", "0.05", "10", "12.5", "12.34", "100"]


def test_the_manager_sets_the_commission_on_the_edit_form(app, auth, client):
    auth.login("manager")
    user_id = add_staff(app, username="taras", role=Role.TECHNICIAN, full_name="Taras")
    assert 'name="commission"' in client.get(f"/staff/{user_id}/edit").get_data(as_text=True)
    response = staff_form_post(client, f"/staff/{user_id}/edit", full_name="Taras", role="technician", active="y",
                               commission="12.5")
    assert response.status_code == 302
    assert load_staff(app, user_id).commission_basis_points == 1250
    assert 'value="12.5"' in client.get(f"/staff/{user_id}/edit").get_data(as_text=True)


@pytest.mark.parametrize("typed", ["abc", "101", "-5", "1.234", "9" * 40])
def test_a_bad_commission_is_shown_next_to_the_field_and_kept(app, auth, client, typed):
    auth.login("manager")
    user_id = add_staff(app, username="taras", role=Role.TECHNICIAN, full_name="Taras")
    response = staff_form_post(client, f"/staff/{user_id}/edit", full_name="Taras", role="technician", active="y",
                               commission=typed)
    assert response.status_code in (200, 422)
    page = FormPage(response.get_data(as_text=True))
    assert list(page.errors) == ["commission"] and page.values["commission"] == typed
    assert load_staff(app, user_id).commission_basis_points == 0
    with app.app_context():
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.field == "commission_basis_points")) is None
        db.session.remove()
