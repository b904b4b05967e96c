"""API tokens: shown once and stored as a hash only, refused when revoked or expired, last use noted at most once
a minute in a transaction of its own, every creation and revocation in the change log."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from crm.api import tokens
from crm.api.models import ApiToken
from crm.audit import AuditEntry
from crm.database import sqlite_write_intent, utcnow
from crm.extensions import db
from tests import factories


def _make(session, role="read_only", expires_at=None, name="Website"):
    manager = factories.staff(role="manager")
    return tokens.create_token(session, name=name, role=role, expires_at=expires_at, actor=manager, now=utcnow())


def test_a_token_is_shown_once_and_stored_as_its_hash_only(session):
    row, secret = _make(session)
    assert secret.startswith("crm_") and len(secret) >= 40
    stored = [getattr(row, column.key) for column in ApiToken.__table__.columns]
    assert secret not in stored and row.token_hash == tokens.digest(secret)
    assert row.prefix == secret[:10]
    assert tokens.authenticate(session, f"Bearer {secret}", utcnow()) == row


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer crm_wrong", "Basic abc", "bearer  ", "Token crm_x",
                                    "Bearer " + "crm_" + "a" * 200])
def test_anything_but_a_known_token_is_refused(session, header):
    _make(session)
    assert tokens.authenticate(session, header, utcnow()) is None


def test_revoked_and_expired_tokens_are_refused(session):
    now = utcnow()
    revoked, revoked_secret = _make(session, name="Old bot")
    expiring, expiring_secret = _make(session, name="Temp", expires_at=now + timedelta(hours=1))
    assert tokens.revoke(session, revoked, actor=None, now=now)
    assert not tokens.revoke(session, revoked, actor=None, now=now)
    assert tokens.authenticate(session, f"Bearer {revoked_secret}", now) is None
    assert tokens.authenticate(session, f"Bearer {expiring_secret}", now) == expiring
    assert tokens.authenticate(session, f"Bearer {expiring_secret}", now + timedelta(hours=1)) is None


@pytest.mark.parametrize(("values", "field"), [
    ({"name": "  "}, "name"), ({"name": "x" * 81}, "name"), ({"role": "owner"}, "role"),
    ({"expires_at": "past"}, "expires_on")])
def test_bad_values_are_refused_on_their_field(session, values, field):
    now = utcnow()
    arguments = {"name": "Bot", "role": "read_only", "expires_at": None, **values}
    if arguments["expires_at"] == "past":
        arguments["expires_at"] = now - timedelta(days=1)
    with pytest.raises(tokens.TokenError) as refused:
        tokens.create_token(session, actor=None, now=now, **arguments)
    assert refused.value.field == field
    assert session.scalar(select(ApiToken)) is None


def _last_use(token_id):
    db.session.rollback()
    return db.session.get(ApiToken, token_id).last_used_at


def test_a_read_notes_the_last_use_in_its_own_transaction_at_most_once_a_minute(app_ctx):
    row, _ = _make(db.session)
    db.session.commit()
    token_id, now = row.id, utcnow()
    read = sqlite_write_intent.set(False)  # what a GET request runs with
    try:
        db.session.rollback()
        row = db.session.get(ApiToken, token_id)
        tokens.touch(db.session, db.engine, row, now)
        assert not db.session.dirty  # the request's own transaction stays a read
        assert _last_use(token_id) == now
        tokens.touch(db.session, db.engine, db.session.get(ApiToken, token_id), now + timedelta(seconds=30))
        assert _last_use(token_id) == now
        tokens.touch(db.session, db.engine, db.session.get(ApiToken, token_id), now + timedelta(minutes=2))
        assert _last_use(token_id) == now + timedelta(minutes=2)
    finally:
        sqlite_write_intent.reset(read)


def test_a_write_request_notes_the_last_use_with_its_own_changes(session):
    row, _ = _make(session)
    now = utcnow()
    tokens.touch(session, db.engine, row, now)
    assert row.last_used_at == now and row in session.dirty


def test_creation_and_revocation_are_in_the_change_log(session):
    row, _ = _make(session, name="Accounting export")
    tokens.revoke(session, row, actor=None, now=utcnow())
    entries = session.scalars(select(AuditEntry).where(AuditEntry.subject == f"api_token:{row.id}")
                              .order_by(AuditEntry.id)).all()
    assert [e.field for e in entries] == ["created", "revoked"]
    assert "Accounting export" in entries[0].new_value
