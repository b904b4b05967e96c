"""The one audit log: who changed money, points, prices, stock, settings or staff accounts (and, later, who
exported or erased a customer's data), what, and when.

Append-only: rows are only ever added (``record`` and ``record_change``), in the same transaction as the change
they describe and by the service that makes it; no code path updates or deletes one, and the database refuses to
(triggers from migration 0015 on PostgreSQL and SQLite; the tests and the benchmark lift them to empty tables).
The table keeps the name it had as the loyalty settings' change log (``loyalty_audit``). It lives here, below the
modules that write to it, so that every module can write to it without importing another. It names StaffUser only
as a string: importing crm.auth here would import the auth views, which import this module.

A row: ``area`` (which part of the shop: the manager's "what" filter), ``action`` ("change" for a setting, or what
happened: "refund", "adjust", ...), ``subject`` (what it happened to, "type:id"), ``field`` (the setting changed,
when one was), ``old_value`` -> ``new_value`` (for an action, ``new_value`` holds its details as JSON)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, selectinload

from crm.database import UTCDateTime, utcnow
from crm.extensions import db
from crm.locales import lazy_gettext as _l
from crm.shop_time import day_bounds_utc

if TYPE_CHECKING:
    from crm.auth.models import StaffUser

# The areas a row belongs to, with the manager's names for them (the page's "what" filter).
AREAS = {
    "points": _l("Points"),
    "refunds": _l("Refunds"),
    "prices": _l("Prices"),
    "stock": _l("Stock adjustments"),
    "loyalty": _l("Loyalty settings"),
    "notifications": _l("Message settings"),
    "reminders": _l("Reminder settings"),
    "staff": _l("Staff accounts"),
    "privacy": _l("Customer data (export, erasure)"),
    "orders": _l("Orders"),  # repair orders changed by other programs (crm.api)
    "webhooks": _l("Webhooks"),
}
SETTINGS_AREAS = ("loyalty", "notifications", "reminders", "staff")  # what the loyalty settings' log shows

# The area of a setting change, from its subject's first part ("tier:2" -> loyalty); anything else: loyalty.
_AREA_OF_SUBJECT = {"staff": "staff", "message_template": "notifications", "notification_settings": "notifications",
                    "reminders": "reminders", "checkup": "reminders", "customer": "privacy", "customers": "privacy"}


class AuditEntry(db.Model):
    """One audited change or action (see the module's docstring for the columns)."""

    __tablename__ = "loyalty_audit"
    __table_args__ = (Index("ix_loyalty_audit_area_created_at", "area", "created_at"),
                      Index("ix_loyalty_audit_actor_id_created_at", "actor_id", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    area: Mapped[str] = mapped_column(String(20), default="loyalty", server_default="loyalty")
    action: Mapped[str] = mapped_column(String(40), default="change", server_default="change")
    subject: Mapped[str] = mapped_column(String(80))  # "program", "earn_rate:accessory", "tier:2", "refund:RF-00001"
    field: Mapped[str] = mapped_column(String(60))
    old_value: Mapped[str] = mapped_column(Text, default="")
    new_value: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("auth_staff.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    actor: Mapped[StaffUser | None] = relationship(lazy="raise")


def _text(value) -> str:
    return "" if value is None else str(value)


def record_change(session: Session, subject: str, field: str, old, new, actor: StaffUser | None,
                  now: datetime | None = None, *, area: str | None = None) -> AuditEntry:
    """A setting (or an account's, an item's value) changed from ``old`` to ``new``."""
    area = area or _AREA_OF_SUBJECT.get(subject.split(":", 1)[0], "loyalty")
    entry = AuditEntry(area=area, action="change", subject=subject[:80], field=field[:60], old_value=_text(old),
                       new_value=_text(new), actor_id=actor.id if actor else None, created_at=now or utcnow())
    session.add(entry)
    return entry


def record(session: Session, actor: StaffUser | None, action: str, target_type: str, target_id, details=None, *,
           area: str | None = None, now: datetime | None = None) -> AuditEntry:
    """Something was done to ``target_type:target_id`` (a refund, a points adjustment, an export, an erasure):
    ``details`` (a dict, stored as JSON, or a text) say what; never personal data that an erasure must remove.
    ``area`` defaults to the target's (``customer`` -> privacy, ``staff`` -> staff)."""
    area = area or _AREA_OF_SUBJECT.get(target_type)
    if area not in AREAS:
        raise ValueError(f"unknown audit area {area}")
    text = details if isinstance(details, str) else json.dumps(details or {}, ensure_ascii=False, sort_keys=True,
                                                              default=str)
    subject = target_type if target_id is None else f"{target_type}:{target_id}"
    entry = AuditEntry(area=area, action=action[:40], subject=subject[:80], field="", old_value="", new_value=text,
                       actor_id=actor.id if actor else None, created_at=now or utcnow())
    session.add(entry)
    return entry


# --- reading: the manager's audit page and its CSV ---------------------------------------------------------

@dataclass(frozen=True)
class AuditFilters:
    actor_id: int | None = None
    area: str = ""  # "" = every area
    date_from: date | None = None  # the shop's days, inclusive
    date_to: date | None = None
    areas: tuple[str, ...] = ()  # limits the rows to these areas (the loyalty settings' log)


def _query(filters: AuditFilters):
    stmt = select(AuditEntry)
    if filters.actor_id is not None:
        stmt = stmt.where(AuditEntry.actor_id == filters.actor_id)
    if filters.area:
        stmt = stmt.where(AuditEntry.area == filters.area)
    if filters.areas:
        stmt = stmt.where(AuditEntry.area.in_(filters.areas))
    if filters.date_from is not None:
        stmt = stmt.where(AuditEntry.created_at >= day_bounds_utc(filters.date_from)[0])
    if filters.date_to is not None:
        stmt = stmt.where(AuditEntry.created_at < day_bounds_utc(filters.date_to)[1])
    return stmt.order_by(AuditEntry.id.desc())


def audit_page(session: Session, filters: AuditFilters, *, page: int = 1,
               per_page: int = 50) -> tuple[list[AuditEntry], bool]:
    """A page of entries, newest first, with their actors (two statements), and whether a next page exists."""
    page = max(page, 1)
    rows = list(session.scalars(_query(filters).offset((page - 1) * per_page).limit(per_page + 1)
                                .options(selectinload(AuditEntry.actor))))
    return rows[:per_page], len(rows) > per_page


def audit_rows(session: Session, filters: AuditFilters, *, batch: int = 500) -> Iterator[AuditEntry]:
    """Every matching entry, newest first, read in batches (for the CSV download), with their actors."""
    stmt = _query(filters).options(selectinload(AuditEntry.actor)).execution_options(yield_per=batch)
    yield from session.scalars(stmt)
