"""The actor of a token (crm.api.tokens): every token acts as a staff row of its own, named after it, with the staff
role of its role; that row never logs in and is nobody's colleague: not in the staff list, the technician pickers
or the staff reports. Migration 0021 made one for each token made before it."""

import os
import tempfile
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy import select

from crm import create_app
from crm.api import tokens
from crm.api.models import ApiToken, TokenRole
from crm.auth import service as auth_service
from crm.auth.models import StaffUser
from crm.auth.passwords import hash_password
from crm.database import utcnow
from crm.extensions import db
from crm.reports import staff as staff_reports
from tests import factories
from tests.conftest import csrf_token

pytestmark = pytest.mark.usefixtures("cheap_password_hashing")


def _actor(session, name: str) -> StaffUser:
    row = session.scalar(select(ApiToken).where(ApiToken.name == name))
    return tokens.actor_of(session, row)


@pytest.mark.parametrize(("role", "staff_role"), [("read_only", "technician"), ("technician", "technician"),
                                                  ("front_desk", "front_desk"), ("manager", "manager")])
def test_a_token_is_made_with_its_own_staff_row(session, role, staff_role):
    row, _ = tokens.create_token(session, name=f"Bot {role}", role=role, expires_at=None, actor=None, now=utcnow())
    actor = tokens.actor_of(session, row)
    assert (actor.full_name, actor.role, actor.is_api_actor, actor.is_active_account) == (
        f"Bot {role}", staff_role, True, False)
    assert actor.username == f"api-token:{row.id}"
    assert set(tokens.ACTOR_ROLE) == set(TokenRole)


def test_the_actor_never_logs_in_even_when_activated_with_a_password(app, client, committed):
    def arm(session):
        tokens.create_token(session, name="Sneaky", role="manager", expires_at=None, actor=None, now=utcnow())
        actor = _actor(session, "Sneaky")
        actor.is_active_account, actor.password_hash = True, hash_password("correct-horse-42")
        return actor.username

    username = committed(arm)
    response = client.post("/login", data={"username": username, "password": "correct-horse-42",
                                           "csrf_token": csrf_token(client, "/login")})
    assert response.status_code != 302 and "Wrong username or password." in response.get_data(as_text=True)


def test_the_actor_is_nobodys_colleague(app, client, auth, committed, api_token):
    headers = api_token("manager", name="Accounting")
    customer_id = committed(lambda session: factories.customer().id)
    assert client.post(f"/api/v1/customers/{customer_id}/points", json={"points": 5, "reason": "Goodwill"},
                       headers={**headers, "Idempotency-Key": "k1"}).status_code == 201  # enrols them, as its actor

    def read(session):
        actor = _actor(session, "Accounting")
        now = utcnow()
        reports = (staff_reports.desk_figures(session, now - timedelta(days=1), now + timedelta(days=1)),
                   staff_reports.technician_figures(session, now - timedelta(days=1), now + timedelta(days=1),
                                                    ZoneInfo("UTC")))
        return (actor.id, [s.id for s in auth_service.list_staff(session)],
                [s.id for s in auth_service.active_technicians(session)], [[r.staff_id for r in rows]
                                                                            for rows in reports])

    actor_id, staff, technicians, reports = committed(read)
    assert actor_id not in staff and actor_id not in technicians
    assert all(actor_id not in ids for ids in reports)
    auth.login("manager")
    assert client.get(f"/staff/{actor_id}/edit").status_code == 404
    assert "Accounting" not in client.get("/staff").get_data(as_text=True)


def test_migration_0021_gives_each_existing_token_an_actor():
    url = "sqlite:///" + os.path.join(tempfile.mkdtemp(prefix="crm-actor-"), "old.sqlite3")
    fresh = create_app("test", SQLALCHEMY_DATABASE_URI=url)
    with fresh.app_context():
        upgrade(revision="0020_webhooks")
        with db.engine.begin() as connection:
            connection.execute(sa.text(
                "INSERT INTO api_token (name, role, token_hash, prefix, created_at) VALUES "
                "('Old website', 'front_desk', 'a', 'crm_a', '2026-01-01 00:00:00'), "
                "('Old reader', 'read_only', 'b', 'crm_b', '2026-01-01 00:00:00')"))
        upgrade()
        rows = {row.name: tokens.actor_of(db.session, row) for row in db.session.scalars(select(ApiToken))}
        assert {name: (a.full_name, a.role, a.is_api_actor, a.is_active_account) for name, a in rows.items()} == {
            "Old website": ("Old website", "front_desk", True, False),
            "Old reader": ("Old reader", "technician", True, False)}
        assert auth_service.list_staff(db.session) == []
        db.session.remove()
        db.engine.dispose()
