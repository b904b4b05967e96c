"""API tokens: a manager gives a program (the shop's website, a bot, an accounting export) a token with a role.
Only the token's SHA-256 is stored; the token itself is shown once, when it is made."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm.database import UTCDateTime, utcnow
from crm.extensions import db
from crm.locales import lazy_gettext as _l


class TokenRole(StrEnum):
    READ_ONLY = "read_only"
    TECHNICIAN = "technician"
    FRONT_DESK = "front_desk"
    MANAGER = "manager"


TOKEN_ROLE_LABELS = {
    TokenRole.READ_ONLY: _l("Read only"),
    TokenRole.TECHNICIAN: _l("Technician"),
    TokenRole.FRONT_DESK: _l("Front desk"),
    TokenRole.MANAGER: _l("Manager"),
}


class ApiToken(db.Model):
    __tablename__ = "api_token"
    __table_args__ = (
        CheckConstraint("role IN ('read_only', 'technician', 'front_desk', 'manager')", name="role_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # hex SHA-256 of the whole token
    prefix: Mapped[str] = mapped_column(String(12))  # the token's first characters, to tell tokens apart
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("auth_staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Who the token acts as in the services (crm.api.tokens.actor_of): its own staff row, made with the token.
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("auth_staff.id"), index=True, unique=True)

    def usable(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)


class IdempotentRequest(db.Model):
    """The first answer to a write sent with an ``Idempotency-Key``: the same key with the same request replays it,
    with another request is refused (409). Written in the transaction of the write itself, so concurrent requests
    with one key have one effect (the second waits on the unique key, then replays)."""

    __tablename__ = "api_idempotent_request"
    __table_args__ = (UniqueConstraint("token_id", "key", name="one_per_token_and_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(ForeignKey("api_token.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))
    request_digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of method, path and body
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class ApiSettings(db.Model):
    """One row (id 1): the websites whose pages may ask the repair-status widget (one origin per line)."""

    __tablename__ = "api_settings"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    widget_origins: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
