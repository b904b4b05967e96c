"""A customer's consent history: every change of a consent is a row (crm.customers.models.ConsentChange), written
by the service that changes the flag, in the same transaction: the desk's form (creation records the consents
given at the start), the unsubscribe link, the Telegram chat's /stop, later the API.

The customer page shows the history (a profile section); the export reads ``consent_history``."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.auth.models import StaffUser
from crm.customers.models import ConsentChange, Customer
from crm.customers.profile import MESSAGES, ProfileSection, register_profile_section
from crm.database import utcnow
from crm.locales import lazy_gettext as _l

SERVICE, MARKETING = "service", "marketing"
DESK, UNSUBSCRIBE_LINK, TELEGRAM, API, ERASURE = "desk", "unsubscribe_link", "telegram", "api", "erasure"

CONSENT_LABELS = {SERVICE: _l("Service messages"), MARKETING: _l("Marketing messages")}
SOURCE_LABELS = {DESK: _l("At the desk"), UNSUBSCRIBE_LINK: _l("Unsubscribe link"), TELEGRAM: _l("Telegram"),
                 API: _l("API"), ERASURE: _l("Personal data erased")}
HISTORY_LIMIT = 50  # rows on the customer page (the export reads them all)


def record_consent(session: Session, customer: Customer, consent: str, granted: bool, *, source: str,
                   actor: StaffUser | None = None, now: datetime | None = None) -> ConsentChange:
    """One change of ``consent`` (``service``, ``marketing``, ``marketing:<channel>``) to ``granted``."""
    if source not in SOURCE_LABELS:
        raise ValueError(f"unknown consent source {source}")
    row = ConsentChange(customer_id=customer.id, consent=consent, granted=bool(granted), source=source,
                        changed_by_id=actor.id if actor is not None else None, changed_at=now or utcnow())
    session.add(row)
    return row


def set_consents(session: Session, customer: Customer, wanted: dict[str, bool], *, source: str,
                 actor: StaffUser | None = None, now: datetime | None = None, initial: bool = False) -> list[str]:
    """Set the customer's consent flags (``{"service": True, "marketing": False}``): each one that changes (every
    one, ``initial``: at creation) gets its time and a history row. Returns the consents taken back."""
    now = now or utcnow()
    withdrawn = []
    for consent, granted in wanted.items():
        current = getattr(customer, f"{consent}_consent")
        if not initial and current == granted and getattr(customer, f"{consent}_consent_at") is not None:
            continue
        if current and not granted:
            withdrawn.append(consent)
        setattr(customer, f"{consent}_consent", granted)
        setattr(customer, f"{consent}_consent_at", now)
        if initial or current != granted:
            record_consent(session, customer, consent, granted, source=source, actor=actor, now=now)
    return withdrawn


def consent_history(session: Session, customer_id: int, *, limit: int | None = None) -> list[dict]:
    """The customer's consent changes, newest first, as plain rows: ``changed_at`` (UTC), ``consent``,
    ``granted``, ``source``, ``changed_by_id`` and ``changed_by`` (the staff member's name, None: the customer).
    One statement."""
    stmt = (select(ConsentChange, StaffUser.full_name)
            .outerjoin(StaffUser, StaffUser.id == ConsentChange.changed_by_id)
            .where(ConsentChange.customer_id == customer_id)
            .order_by(ConsentChange.id.desc()))
    if limit is not None:
        stmt = stmt.limit(limit)
    return [{"changed_at": row.changed_at, "consent": row.consent, "granted": row.granted, "source": row.source,
             "changed_by_id": row.changed_by_id, "changed_by": name}
            for row, name in session.execute(stmt)]


def consent_label(consent: str) -> str:
    """"marketing:email" -> "Marketing messages (email)"."""
    what, _, channel = consent.partition(":")
    label = str(CONSENT_LABELS.get(what, what))
    return f"{label} ({channel})" if channel else label


register_profile_section(ProfileSection(
    template="customers/_consent_history.html",
    context=lambda session, customer: {"consent_history": consent_history(session, customer.id, limit=HISTORY_LIMIT),
                                       "consent_label": consent_label, "consent_sources": SOURCE_LABELS},
    order=95, tab=MESSAGES,
))
