"""The change log: who changed which setting or account, from what to what, and when.

It began as the loyalty settings' audit trail (the table keeps its name, ``loyalty_audit``, and the log is shown
under the loyalty settings). It lives here, below the modules that write to it, so that staff accounts can
write to it too without importing loyalty. It names StaffUser only as a string: importing crm.auth here would
import the auth views, which import this module."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from crm.database import UTCDateTime, utcnow
from crm.extensions import db

if TYPE_CHECKING:
    from crm.auth.models import StaffUser


class AuditEntry(db.Model):
    """Who changed which setting (program, rate, tier, coupon) or staff account, from what to what, and when."""

    __tablename__ = "loyalty_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(80))  # "program", "earn_rate:accessory", "tier:2", "staff:olena"
    field: Mapped[str] = mapped_column(String(60))
    old_value: Mapped[str] = mapped_column(Text, default="")
    new_value: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("auth_staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    actor: Mapped[StaffUser | None] = relationship(lazy="raise")


def record_change(session: Session, subject: str, field: str, old, new, actor: StaffUser | None,
                  now: datetime) -> None:
    session.add(AuditEntry(subject=subject, field=field, old_value="" if old is None else str(old),
                           new_value="" if new is None else str(new), actor_id=actor.id if actor else None,
                           created_at=now))
