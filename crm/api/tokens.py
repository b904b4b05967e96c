"""Making, checking and revoking API tokens. A token is "crm_" and 43 URL-safe characters (256 random bits);
the database keeps its SHA-256 only (a fast hash is right for a random secret of this length: there is nothing
to guess), compared in constant time through the unique index lookup of the hash.

The actor of a token. The services take the staff member who acts (``actor``): its role decides what it may do
(the status workflow's TARGETS_BY_ROLE) and its id is recorded as who did it (a status change's ``changed_by``, a
ledger entry's author, a stock movement's, the audit log's actor). So every token has a staff row of its own
(``ApiToken.actor_id``), made with the token (migration 0021_api_actor made them for the tokens before it):

- named after the token (``full_name``; username ``api-token:<id>``, which no staff form accepts: no ":"), so
  an order's history reads "by Shop website", and the change log names the token as it did before;
- with the staff role of the token's role (technician, front desk, manager; a read-only token maps to
  technician, the narrowest, but crm.api.auth.allow refuses it every write before any service is called);
- ``is_api_actor``: never a login (inactive, a password hash nothing verifies against, and refused by the login
  service even if someone activated it), and left out of the staff list, the technician pickers and the staff
  reports;
- it outlives its token: revoking the token stops the calls, the history keeps its name.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from crm.api.models import ApiToken, TokenRole
from crm.audit import record_change
from crm.auth.models import Role, StaffUser, new_session_token
from crm.database import sqlite_write_intent
from crm.errors import RuleError
from crm.locales import lazy_gettext as _l

PREFIX = "crm_"
LAST_USE_GRANULARITY = timedelta(minutes=1)  # last use is written at most once a minute per token
# The staff role a token acts with (see the module's docstring).
ACTOR_ROLE = {TokenRole.READ_ONLY: Role.TECHNICIAN, TokenRole.TECHNICIAN: Role.TECHNICIAN,
              TokenRole.FRONT_DESK: Role.FRONT_DESK, TokenRole.MANAGER: Role.MANAGER}
NO_PASSWORD = "!api-actor: no login"  # not a hash: no password verifies against it


class TokenError(RuleError):
    pass


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(session: Session, *, name: str, role: str, expires_at: datetime | None, actor: StaffUser | None,
                 now: datetime) -> tuple[ApiToken, str]:
    """A new token: the row and the token itself (shown to the manager once, never stored)."""
    name = (name or "").strip()
    if not name:
        raise TokenError(_l("Give the token a name (who or what uses it)."), field="name")
    if len(name) > 80:
        raise TokenError(_l("At most 80 characters."), field="name")
    if role not in set(TokenRole):
        raise TokenError(_l("Choose a role."), field="role")
    if expires_at is not None and expires_at <= now:
        raise TokenError(_l("The expiry date must be in the future."), field="expires_on")
    secret = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(name=name, role=role, token_hash=digest(secret), prefix=secret[:10],
                   created_by_id=actor.id if actor else None, created_at=now, expires_at=expires_at)
    session.add(row)
    session.flush()
    row.actor_id = _new_actor(session, row, now).id
    session.flush()
    record_change(session, f"api_token:{row.id}", "created", "", f"{name} ({role})", actor, now)
    return row, secret


def _new_actor(session: Session, row: ApiToken, now: datetime) -> StaffUser:
    actor = StaffUser(username=f"api-token:{row.id}", full_name=row.name, role=ACTOR_ROLE[TokenRole(row.role)],
                      password_hash=NO_PASSWORD, is_active_account=False, session_token=new_session_token(),
                      is_api_actor=True, created_at=now)
    session.add(actor)
    session.flush()
    return actor


def actor_of(session: Session, row: ApiToken) -> StaffUser:
    """The staff row the token acts as in the services (see the module's docstring)."""
    actor = session.get(StaffUser, row.actor_id) if row.actor_id is not None else None
    if actor is None:
        raise RuntimeError(f"API token {row.id} has no actor")
    return actor


def revoke(session: Session, row: ApiToken, *, actor: StaffUser | None, now: datetime) -> bool:
    """Revoke a token (idempotent); True when this call revoked it."""
    if row.revoked_at is not None:
        return False
    row.revoked_at = now
    record_change(session, f"api_token:{row.id}", "revoked", row.name, "", actor, now)
    return True


def authenticate(session: Session, header: str | None, now: datetime) -> ApiToken | None:
    """The usable token an ``Authorization: Bearer ...`` header names, or None (read only: see touch())."""
    scheme, _, secret = (header or "").partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(secret)))
    if row is None or not row.usable(now):
        return None
    return row


def touch(session: Session, engine: Engine, row: ApiToken, now: datetime) -> None:
    """Note the token's last use, at most once a minute. A read request writes it in a short transaction of its
    own, so the request itself stays a read (on SQLite it does not queue for the write lock); a write request,
    which holds that lock already, writes it with its own changes."""
    if row.last_used_at is not None and now - row.last_used_at < LAST_USE_GRANULARITY:
        return
    if sqlite_write_intent.get():
        row.last_used_at = now
        return
    intent = sqlite_write_intent.set(True)
    try:
        with engine.begin() as connection:
            connection.execute(update(ApiToken).where(ApiToken.id == row.id).values(last_used_at=now))
    finally:
        sqlite_write_intent.reset(intent)


def all_tokens(session: Session) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).order_by(ApiToken.revoked_at.is_not(None), ApiToken.id.desc())))
