import secrets
from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from crm.database import UTCDateTime, utcnow
from crm.extensions import db
from crm.locales import lazy_gettext as _l


class Role(StrEnum):
    TECHNICIAN = "technician"
    FRONT_DESK = "front_desk"
    MANAGER = "manager"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.TECHNICIAN: _l("Technician"),
    Role.FRONT_DESK: _l("Front desk"),
    Role.MANAGER: _l("Manager"),
}


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class StaffUser(UserMixin, db.Model):
    __tablename__ = "auth_staff"
    __table_args__ = (
        CheckConstraint("role IN ('technician', 'front_desk', 'manager')", name="role_known"),
        CheckConstraint("commission_basis_points BETWEEN 0 AND 10000", name="commission_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active_account: Mapped[bool] = mapped_column(Boolean, default=True)
    # Flask-Login "alternative token": the session stores this, not the id, so rotating it on
    # logout or password change ends every copy of the old session cookie.
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The interface language this person reads (one of LANGUAGES); None: the browser's, else the shop's.
    language: Mapped[str | None] = mapped_column(String(10))
    # The commission estimate's rate on paid labour (crm.reports.staff), in hundredths of a percent: 1250 = 12.50 %.
    commission_basis_points: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The actor of an API token (crm.api.tokens): a row of its own for the services' "who did it", never a login
    # (inactive, no usable password), left out of staff lists, technician pickers and staff reports.
    is_api_actor: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    def get_id(self) -> str:
        return self.session_token

    @property
    def is_active(self) -> bool:
        return self.is_active_account

    @property
    def role_label(self) -> str:
        return Role(self.role).label

    def has_role(self, *roles: str) -> bool:
        return self.role == Role.MANAGER or self.role in roles

    def __repr__(self) -> str:
        return f"<StaffUser {self.username} {self.role}>"


class LoginFailure(db.Model):
    """One failed login: from which client (see service.client_key), against which account (none for an unknown
    username; what was typed is not kept), and when. The failed-login limit per client counts these, so it holds
    across workers; rows older than every window that reads them are deleted as new ones come."""

    __tablename__ = "auth_login_failure"
    __table_args__ = (Index("ix_auth_login_failure_address_failed_at", "address", "failed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    address: Mapped[str] = mapped_column(String(64))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("auth_staff.id"))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
